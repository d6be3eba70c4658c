package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestSchemasMatchShared(t *testing.T) {
	shared, err := filepath.Glob("../shared/schemas/*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(shared) == 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("no schemas at ../shared/schemas")
		}
		t.Skip("no schemas at ../shared/schemas: the chaincode was copied without the repository")
	}

	for _, path := range shared {
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := schemaFiles.ReadFile("schemas/" + filepath.Base(path))

		if err != nil || string(got) != string(want) {
			t.Errorf("schemas/%s differs from %s: run go generate", filepath.Base(path), path)
		}
	}
}

func TestServerNeedsChaincodeID(t *testing.T) {
	cc, err := NewChaincode()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("CHAINCODE_ID", "")

	_, missing := newServer(cc, "127.0.0.1:0")
	t.Setenv("CHAINCODE_ID", "cocoa_1.0:abc")
	server, err := newServer(cc, "127.0.0.1:0")

	if missing == nil {
		t.Error("a server without CHAINCODE_ID was configured")
	}
	if err != nil || server.CCID != "cocoa_1.0:abc" || !server.TLSProps.Disabled {
		t.Errorf("server = %+v, %v", server, err)
	}
}

func TestServerTLSFilesMustExist(t *testing.T) {
	cc, err := NewChaincode()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(cert, []byte("cert"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CHAINCODE_ID", "cocoa_1.0:abc")
	t.Setenv("CHAINCODE_TLS_CERT", cert)
	t.Setenv("CHAINCODE_TLS_KEY", key)

	_, missingKey := newServer(cc, "127.0.0.1:0")
	if err := os.WriteFile(key, []byte("key"), 0o600); err != nil {
		t.Fatal(err)
	}
	server, err := newServer(cc, "127.0.0.1:0")

	if missingKey == nil {
		t.Error("a missing TLS key was accepted")
	}
	if err != nil || server.TLSProps.Disabled || string(server.TLSProps.Key) != "key" {
		t.Errorf("server TLS = %+v, %v", server.TLSProps, err)
	}
}
