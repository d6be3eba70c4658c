package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/hyperledger/fabric-chaincode-go/v2/pkg/statebased"
	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
)

// ledger reads through the writes of the current transaction, which Fabric's
// GetState does not see, so several events in one call build on each other.
type ledger struct {
	stub   shim.ChaincodeStubInterface
	writes map[string][]byte
	txID   string
	time   string
}

func newLedger(stub shim.ChaincodeStubInterface) (*ledger, error) {
	ts, err := stub.GetTxTimestamp()
	if err != nil {
		return nil, fmt.Errorf("read the transaction timestamp: %w", err)
	}
	when := time.Unix(ts.GetSeconds(), 0).UTC().Format("2006-01-02T15:04:05Z")
	return &ledger{stub: stub, writes: map[string][]byte{}, txID: stub.GetTxID(), time: when}, nil
}

// get unmarshals the value at key into v; false when there is none.
func (l *ledger) get(key string, v any) (bool, error) {
	data, ok := l.writes[key]
	if !ok {
		var err error
		if data, err = l.stub.GetState(key); err != nil {
			return false, fmt.Errorf("read %s: %w", key, err)
		}
	}
	if data == nil {
		return false, nil
	}
	if err := json.Unmarshal(data, v); err != nil {
		return false, fmt.Errorf("decode %s: %w", key, err)
	}
	return true, nil
}

// put writes v at key; Fabric keeps the last write of a key in a transaction.
func (l *ledger) put(key string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", key, err)
	}
	l.writes[key] = data
	if err := l.stub.PutState(key, data); err != nil {
		return fmt.Errorf("write %s: %w", key, err)
	}
	return nil
}

// endorseBy sets the key-level endorsement policy of key to a peer of msp.
func (l *ledger) endorseBy(key, msp string) error {
	ep, err := statebased.NewStateEP(nil)
	if err != nil {
		return err
	}
	if err := ep.AddOrgs(statebased.RoleTypePeer, msp); err != nil {
		return fmt.Errorf("policy for %s: %w", key, err)
	}
	policy, err := ep.Policy()
	if err != nil {
		return fmt.Errorf("policy for %s: %w", key, err)
	}
	if err := l.stub.SetStateValidationParameter(key, policy); err != nil {
		return fmt.Errorf("set the endorsement policy of %s: %w", key, err)
	}
	return nil
}

// implicitCollection is the private collection every organisation has.
func implicitCollection(msp string) string {
	return "_implicit_org_" + msp
}

func (l *ledger) getPrivate(msp, key string, v any) (bool, error) {
	data, err := l.stub.GetPrivateData(implicitCollection(msp), key)
	if err != nil {
		return false, fmt.Errorf("read private %s: %w", key, err)
	}
	if data == nil {
		return false, nil
	}
	if err := json.Unmarshal(data, v); err != nil {
		return false, fmt.Errorf("decode private %s: %w", key, err)
	}
	return true, nil
}

func (l *ledger) putPrivate(msp, key string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode private %s: %w", key, err)
	}
	if err := l.stub.PutPrivateData(implicitCollection(msp), key, data); err != nil {
		return fmt.Errorf("write private %s: %w", key, err)
	}
	return nil
}
