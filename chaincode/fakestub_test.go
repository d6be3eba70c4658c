package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"math/big"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hyperledger/fabric-chaincode-go/v2/pkg/statebased"
	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/queryresult"
	"github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// world is the committed state of a one-channel network, as the fake peers see it.
type world struct {
	t        *testing.T
	cc       *contractapi.ContractChaincode
	state    map[string][]byte
	sbe      map[string][]byte
	private  map[string]map[string][]byte
	history  map[string][]*queryresult.KeyModification
	clock    int64
	txNumber int
	ids      map[string][]byte
}

func newWorld(t *testing.T) *world {
	t.Helper()
	cc, err := NewChaincode()
	if err != nil {
		t.Fatalf("create the chaincode: %v", err)
	}
	return &world{
		t: t, cc: cc, state: map[string][]byte{}, sbe: map[string][]byte{},
		private: map[string]map[string][]byte{}, history: map[string][]*queryresult.KeyModification{},
		clock: time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC).Unix(), ids: map[string][]byte{},
	}
}

// call is one transaction: who signs the proposal, which peers' orgs endorse it
// (none: one all-seeing peer and no policy checks), what it carries.
type call struct {
	msp       string
	admin     bool
	adminAttr bool // a Fabric CA attribute cocoa.admin=true instead of the OU
	endorsers []string
	fn        string
	args      []string
	transient map[string][]byte
	txID      string
	txTime    time.Time
}

// result is what the client gets back after ordering and validation.
type result struct {
	status  int32
	payload []byte
	message string
	valid   bool   // committed
	reason  string // why it was not committed
}

// invoke runs the proposal on each endorser, compares their answers like a
// client does, checks the key-level policies like the validator does, and commits.
func (w *world) invoke(c call) result {
	w.t.Helper()
	w.txNumber++
	if c.txID == "" {
		c.txID = fmt.Sprintf("tx-%04d", w.txNumber)
	}
	if c.txTime.IsZero() {
		w.clock += 60
		c.txTime = time.Unix(w.clock, 0).UTC()
	}
	peers := c.endorsers
	if len(peers) == 0 {
		peers = []string{""}
	}

	var first *fakeStub
	for _, peerMSP := range peers {
		stub := w.stub(c, peerMSP)
		resp := w.cc.Invoke(stub)
		stub.resp = result{status: resp.GetStatus(), payload: resp.GetPayload(), message: resp.GetMessage()}
		if first == nil {
			first = stub
			continue
		}
		if !first.sameAs(stub) {
			return result{status: 500, reason: "endorsement mismatch between " + peers[0] + " and " + peerMSP}
		}
	}
	if first.resp.status != shim.OK {
		return first.resp
	}
	if len(c.endorsers) > 0 {
		if reason := w.policyFailure(first, c.endorsers); reason != "" {
			out := first.resp
			out.reason = reason
			return out
		}
	}
	w.commit(first)
	out := first.resp
	out.valid = true
	return out
}

func (w *world) stub(c call, peerMSP string) *fakeStub {
	return &fakeStub{
		w: w, peerMSP: peerMSP, fn: c.fn, args: c.args, transient: c.transient,
		creator: w.identity(c.msp, c.admin, c.adminAttr), txID: c.txID, ts: timestamppb.New(c.txTime),
		writes: map[string][]byte{}, sbeWrites: map[string][]byte{}, pvtWrites: map[string]map[string][]byte{},
	}
}

// policyFailure names a written key whose committed policy the endorsers miss.
func (w *world) policyFailure(s *fakeStub, endorsers []string) string {
	var needed []string
	for key := range s.writes {
		if policy := w.sbe[key]; policy != nil {
			ep, err := statebased.NewStateEP(policy)
			if err != nil {
				return err.Error()
			}
			needed = append(needed, ep.ListOrgs()...)
		}
	}
	for collection := range s.pvtWrites {
		needed = append(needed, strings.TrimPrefix(collection, "_implicit_org_"))
	}
	sort.Strings(needed)
	for _, org := range needed {
		if !contains(endorsers, org) {
			return "ENDORSEMENT_POLICY_FAILURE: no endorsement from " + org
		}
	}
	return ""
}

func (w *world) commit(s *fakeStub) {
	for _, key := range sortedKeys(s.writes) {
		w.state[key] = s.writes[key]
		w.history[key] = append(w.history[key], &queryresult.KeyModification{
			TxId: s.txID, Value: s.writes[key], Timestamp: s.ts,
		})
	}
	for key, policy := range s.sbeWrites {
		w.sbe[key] = policy
	}
	for collection, values := range s.pvtWrites {
		if w.private[collection] == nil {
			w.private[collection] = map[string][]byte{}
		}
		for key, value := range values {
			w.private[collection][key] = value
		}
	}
}

// identity is a serialized X.509 identity of msp, with the admin OU when asked.
func (w *world) identity(mspID string, admin, adminAttr bool) []byte {
	name := fmt.Sprintf("%s/%t/%t", mspID, admin, adminAttr)
	if id, ok := w.ids[name]; ok {
		return id
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		w.t.Fatal(err)
	}
	ou := "client"
	if admin {
		ou = adminOU
	}
	template := &x509.Certificate{
		SerialNumber: big.NewInt(int64(len(w.ids) + 1)),
		Subject:      pkix.Name{CommonName: "user@" + mspID, OrganizationalUnit: []string{ou}},
		NotBefore:    time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:     time.Date(2090, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	if adminAttr {
		attrs := []byte(`{"attrs":{"` + adminAttribute + `":"true"}}`)
		attrOID := asn1.ObjectIdentifier{1, 2, 3, 4, 5, 6, 7, 8, 1} // Fabric CA attributes
		template.ExtraExtensions = []pkix.Extension{{Id: attrOID, Value: attrs}}
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		w.t.Fatal(err)
	}
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	id, err := proto.Marshal(&msp.SerializedIdentity{Mspid: mspID, IdBytes: pemBytes})
	if err != nil {
		w.t.Fatal(err)
	}
	w.ids[name] = id
	return id
}

// fakeStub is one peer's simulation of one proposal. Like Fabric, reads see the
// committed state only, never the proposal's own writes. Methods the contract
// does not use are left to the embedded nil interface and panic if called.
type fakeStub struct {
	shim.ChaincodeStubInterface
	w         *world
	peerMSP   string
	fn        string
	args      []string
	transient map[string][]byte
	creator   []byte
	txID      string
	ts        *timestamppb.Timestamp
	writes    map[string][]byte
	sbeWrites map[string][]byte
	pvtWrites map[string]map[string][]byte
	resp      result
}

func (s *fakeStub) GetFunctionAndParameters() (string, []string) { return s.fn, s.args }
func (s *fakeStub) GetCreator() ([]byte, error)                  { return s.creator, nil }
func (s *fakeStub) GetTransient() (map[string][]byte, error)     { return s.transient, nil }
func (s *fakeStub) GetTxID() string                              { return s.txID }
func (s *fakeStub) GetChannelID() string                         { return "cocoa" }
func (s *fakeStub) GetTxTimestamp() (*timestamppb.Timestamp, error) {
	return s.ts, nil
}

func (s *fakeStub) GetState(key string) ([]byte, error) {
	return s.w.state[key], nil
}

func (s *fakeStub) PutState(key string, value []byte) error {
	if key == "" || strings.HasPrefix(key, "\x00") {
		return fmt.Errorf("invalid key %q", key)
	}
	s.writes[key] = value
	return nil
}

func (s *fakeStub) SetStateValidationParameter(key string, ep []byte) error {
	s.sbeWrites[key] = ep
	return nil
}

func (s *fakeStub) GetStateValidationParameter(key string) ([]byte, error) {
	return s.w.sbe[key], nil
}

// GetPrivateData fails, as a Fabric peer does, on a peer outside the collection
// when the value exists (its hash is on every peer, the value is not).
func (s *fakeStub) GetPrivateData(collection, key string) ([]byte, error) {
	value := s.w.private[collection][key]
	if value != nil && s.peerMSP != "" && collection != implicitCollection(s.peerMSP) {
		return nil, fmt.Errorf("private data matching public hash version is not available")
	}
	return value, nil
}

func (s *fakeStub) PutPrivateData(collection, key string, value []byte) error {
	if !strings.HasPrefix(collection, "_implicit_org_") {
		return fmt.Errorf("collection %s is not defined", collection)
	}
	if s.pvtWrites[collection] == nil {
		s.pvtWrites[collection] = map[string][]byte{}
	}
	s.pvtWrites[collection][key] = value
	return nil
}

func (s *fakeStub) GetHistoryForKey(key string) (shim.HistoryQueryIteratorInterface, error) {
	return &historyIterator{items: s.w.history[key]}, nil
}

// sameAs compares two endorsements as a client would: response and write set.
func (s *fakeStub) sameAs(o *fakeStub) bool {
	if s.resp.status != o.resp.status || !bytes.Equal(s.resp.payload, o.resp.payload) {
		return false
	}
	return digest(s.writes) == digest(o.writes) && digest(s.sbeWrites) == digest(o.sbeWrites) &&
		len(s.pvtWrites) == len(o.pvtWrites)
}

func digest(m map[string][]byte) string {
	h := sha256.New()
	for _, k := range sortedKeys(m) {
		h.Write([]byte(k))
		h.Write([]byte{0})
		h.Write(m[k])
		h.Write([]byte{0})
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

func sortedKeys(m map[string][]byte) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

type historyIterator struct {
	items []*queryresult.KeyModification
	next  int
}

func (h *historyIterator) HasNext() bool { return h.next < len(h.items) }
func (h *historyIterator) Close() error  { return nil }
func (h *historyIterator) Next() (*queryresult.KeyModification, error) {
	if !h.HasNext() {
		return nil, fmt.Errorf("no more history")
	}
	h.next++
	return h.items[h.next-1], nil
}
