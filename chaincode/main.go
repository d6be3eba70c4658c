// Command cocoa-cc runs the Cocoa Trace contract, as a service when the peer's
// external builder asks for one (CHAINCODE_SERVER_ADDRESS), else launched by the peer.
package main

import (
	"fmt"
	"log"
	"os"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
)

func main() {
	cc, err := NewChaincode()
	if err != nil {
		log.Fatalf("event=chaincode-create-failed err=%q", err)
	}

	address := os.Getenv("CHAINCODE_SERVER_ADDRESS")
	if address == "" {
		if err := cc.Start(); err != nil {
			log.Fatalf("event=chaincode-start-failed err=%q", err)
		}
		return
	}

	server, err := newServer(cc, address)
	if err != nil {
		log.Fatalf("event=chaincode-server-config-failed err=%q", err)
	}
	log.Printf("event=chaincode-server-listening address=%s ccid=%s tls=%t",
		address, server.CCID, !server.TLSProps.Disabled)
	if err := server.Start(); err != nil {
		log.Fatalf("event=chaincode-server-failed err=%q", err)
	}
}

// NewChaincode wires the contract into a chaincode.
func NewChaincode() (*contractapi.ContractChaincode, error) {
	cc, err := contractapi.NewChaincode(&Contract{})
	if err != nil {
		return nil, err
	}
	cc.Info.Title = "cocoa-trace"
	cc.Info.Version = "1.0.0"
	return cc, nil
}

func newServer(cc *contractapi.ContractChaincode, address string) (*shim.ChaincodeServer, error) {
	ccid := os.Getenv("CHAINCODE_ID")
	if ccid == "" {
		return nil, fmt.Errorf("CHAINCODE_ID must be set with CHAINCODE_SERVER_ADDRESS")
	}

	tls, err := tlsProperties()
	if err != nil {
		return nil, err
	}
	return &shim.ChaincodeServer{CCID: ccid, Address: address, CC: cc, TLSProps: tls}, nil
}

func tlsProperties() (shim.TLSProperties, error) {
	certFile, keyFile := os.Getenv("CHAINCODE_TLS_CERT"), os.Getenv("CHAINCODE_TLS_KEY")
	if certFile == "" && keyFile == "" {
		return shim.TLSProperties{Disabled: true}, nil
	}

	cert, err := os.ReadFile(certFile)
	if err != nil {
		return shim.TLSProperties{}, fmt.Errorf("read CHAINCODE_TLS_CERT: %w", err)
	}
	key, err := os.ReadFile(keyFile)
	if err != nil {
		return shim.TLSProperties{}, fmt.Errorf("read CHAINCODE_TLS_KEY: %w", err)
	}
	props := shim.TLSProperties{Cert: cert, Key: key}
	if caFile := os.Getenv("CHAINCODE_TLS_CLIENT_CA"); caFile != "" {
		if props.ClientCACerts, err = os.ReadFile(caFile); err != nil {
			return shim.TLSProperties{}, fmt.Errorf("read CHAINCODE_TLS_CLIENT_CA: %w", err)
		}
	}
	return props, nil
}
