package main

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
)

var (
	slugRe     = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,39}$`)
	deviceIDRe = regexp.MustCompile(`^[dh]-[0-9a-f]{12}$`)
	roles      = []string{"cooperative", "manufacturer", "distributor", "retailer", "auditor", "operator"}
)

const (
	saltMin = 16
	saltMax = 64
)

// Contract applies device-signed journey records; see README.md.
type Contract struct {
	contractapi.Contract
}

// Outcome is the result of one submitted event.
type Outcome struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Code   string `json:"code,omitempty" metadata:",optional"`
	Detail string `json:"detail,omitempty" metadata:",optional"`
}

// Proof names the transaction that applied or refused a record.
type Proof struct {
	Record string `json:"record"`
	TxID   string `json:"tx_id"`
	Time   string `json:"time"`
	Status string `json:"status"`
	Code   string `json:"code"`
}

// HistoryEntry is one committed value of a key.
type HistoryEntry struct {
	TxID    string          `json:"tx_id"`
	Time    string          `json:"time"`
	Deleted bool            `json:"deleted"`
	Value   json.RawMessage `json:"value"`
}

func begin(ctx contractapi.TransactionContextInterface) (*ledger, *caller, error) {
	l, err := newLedger(ctx.GetStub())
	if err != nil {
		return nil, nil, err
	}
	c, err := callerOf(ctx, l)
	if err != nil {
		return nil, nil, err
	}
	return l, c, nil
}

// RegisterOrg binds an organisation slug to the calling admin's MSP id, once each.
func (s *Contract) RegisterOrg(ctx contractapi.TransactionContextInterface, slug string) (*Org, error) {
	l, c, err := begin(ctx)
	if err != nil {
		return nil, err
	}
	if !c.admin {
		return nil, refuse("not-admin", "only an admin of %s may register it", slug)
	}
	if !slugRe.MatchString(slug) {
		return nil, refuse("schema-invalid", "%q is not an org slug", slug)
	}
	if ok, err := l.get(orgKey(slug), &Org{}); err != nil || ok {
		return nil, orRefuse(err, "asset-exists", "organisation %s is registered", slug)
	}
	if ok, err := l.get(mspKey(c.msp), &MSPIndex{}); err != nil || ok {
		return nil, orRefuse(err, "asset-exists", "MSP %s has an organisation already", c.msp)
	}

	org := &Org{Slug: slug, MSP: c.msp}
	writes := []write{{orgKey(slug), org}, {mspKey(c.msp), &MSPIndex{Slug: slug}}, {inboxKey(slug), &Inbox{}}}
	for _, w := range writes {
		if err := l.put(w.key, w.value); err != nil {
			return nil, err
		}
		if err := l.endorseBy(w.key, c.msp); err != nil {
			return nil, err
		}
	}
	return org, nil
}

// SetPseudonymSalt stores the caller's organisation's salt (transient `salt`), once.
func (s *Contract) SetPseudonymSalt(ctx contractapi.TransactionContextInterface) error {
	l, c, err := begin(ctx)
	if err != nil {
		return err
	}
	if c.org == "" {
		return refuse("unknown-asset", "MSP %s has no registered organisation", c.msp)
	}
	if _, err := requireAdmin(l, c, c.org); err != nil {
		return err
	}

	transient, err := ctx.GetStub().GetTransient()
	if err != nil {
		return fmt.Errorf("read the transient map: %w", err)
	}
	salt := transient["salt"]
	if len(salt) < saltMin || len(salt) > saltMax {
		return refuse("schema-invalid", "salt must be %d to %d bytes", saltMin, saltMax)
	}
	if ok, err := l.getPrivate(c.msp, "salt", &Salt{}); err != nil || ok {
		return orRefuse(err, "asset-exists", "the salt of %s is set already", c.org)
	}
	return l.putPrivate(c.msp, "salt", &Salt{Salt: base64.StdEncoding.EncodeToString(salt)})
}

// RegisterDevice enrols a device key for an organisation; only its admin may.
func (s *Contract) RegisterDevice(
	ctx contractapi.TransactionContextInterface, deviceID, publicKeyB64, org, role string,
) (*Device, error) {
	l, c, err := begin(ctx)
	if err != nil {
		return nil, err
	}
	o, err := requireAdmin(l, c, org)
	if err != nil {
		return nil, err
	}
	if err := checkDeviceID(deviceID, publicKeyB64); err != nil {
		return nil, err
	}
	if !slices.Contains(roles, role) {
		return nil, refuse("schema-invalid", "role %q is not one of %v", role, roles)
	}
	if ok, err := l.get(deviceKey(deviceID), &Device{}); err != nil || ok {
		return nil, orRefuse(err, "asset-exists", "device %s is registered", deviceID)
	}

	device := &Device{
		ID: deviceID, PublicKey: publicKeyB64, Org: org, Role: role, Status: "active", Last: genesis,
	}
	if err := l.put(deviceKey(deviceID), device); err != nil {
		return nil, err
	}
	return device, l.endorseBy(deviceKey(deviceID), o.MSP)
}

// RevokeDevice revokes a device; only an admin of its organisation may.
func (s *Contract) RevokeDevice(ctx contractapi.TransactionContextInterface, deviceID string) (*Device, error) {
	l, c, err := begin(ctx)
	if err != nil {
		return nil, err
	}
	var device Device
	if ok, err := l.get(deviceKey(deviceID), &device); err != nil || !ok {
		return nil, orRefuse(err, "device-unknown", "device %s is not registered", deviceID)
	}
	if _, err := requireAdmin(l, c, device.Org); err != nil {
		return nil, err
	}
	if device.Status == "revoked" {
		return nil, refuse("device-revoked", "device %s is revoked already", deviceID)
	}

	device.Status = "revoked"
	return &device, l.put(deviceKey(deviceID), &device)
}

// SubmitEvents checks and applies the signed events of the transient `events` list.
func (s *Contract) SubmitEvents(ctx contractapi.TransactionContextInterface) ([]Outcome, error) {
	events, err := transientEvents(ctx)
	if err != nil {
		return nil, err
	}
	l, c, err := begin(ctx)
	if err != nil {
		return nil, err
	}

	outcomes := make([]Outcome, 0, len(events))
	for _, ev := range events {
		outcome, err := applyEvent(l, c, ev)
		if err != nil {
			return nil, err
		}
		outcomes = append(outcomes, outcome)
	}
	return outcomes, nil
}

// RecordHarvest applies one signed harvest record.
func (s *Contract) RecordHarvest(ctx contractapi.TransactionContextInterface) (*Outcome, error) {
	return submitOne(ctx, "RecordHarvest", "harvest")
}

// RecordShipment applies one signed dispatch or receipt record.
func (s *Contract) RecordShipment(ctx contractapi.TransactionContextInterface) (*Outcome, error) {
	return submitOne(ctx, "RecordShipment", "dispatch", "receipt")
}

// ProcessBeans applies one signed processing record.
func (s *Contract) ProcessBeans(ctx contractapi.TransactionContextInterface) (*Outcome, error) {
	return submitOne(ctx, "ProcessBeans", "processing")
}

// TransferOwnership applies one signed transfer record.
func (s *Contract) TransferOwnership(ctx contractapi.TransactionContextInterface) (*Outcome, error) {
	return submitOne(ctx, "TransferOwnership", "transfer")
}

// RecordSale applies one signed sale record.
func (s *Contract) RecordSale(ctx contractapi.TransactionContextInterface) (*Outcome, error) {
	return submitOne(ctx, "RecordSale", "sale")
}

// ReadAsset answers the JSON stored at key.
func (s *Contract) ReadAsset(ctx contractapi.TransactionContextInterface, key string) (string, error) {
	data, err := ctx.GetStub().GetState(key)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", key, err)
	}
	if data == nil {
		return "", refuse("unknown-asset", "nothing is stored at %s", key)
	}
	return string(data), nil
}

// AssetHistory answers every committed value of key, oldest first, as JSON.
func (s *Contract) AssetHistory(ctx contractapi.TransactionContextInterface, key string) (string, error) {
	iter, err := ctx.GetStub().GetHistoryForKey(key)
	if err != nil {
		return "", fmt.Errorf("read the history of %s: %w", key, err)
	}
	defer iter.Close()

	entries := []HistoryEntry{}
	for iter.HasNext() {
		mod, err := iter.Next()
		if err != nil {
			return "", fmt.Errorf("read the history of %s: %w", key, err)
		}
		entry := HistoryEntry{TxID: mod.GetTxId(), Deleted: mod.GetIsDelete(), Value: json.RawMessage("null")}
		if ts := mod.GetTimestamp(); ts != nil {
			entry.Time = ts.AsTime().UTC().Format("2006-01-02T15:04:05Z")
		}
		if len(mod.GetValue()) > 0 {
			entry.Value = mod.GetValue()
		}
		entries = append(entries, entry)
	}
	out, err := json.Marshal(entries)
	return string(out), err
}

// RecordProof answers the transaction that applied or refused a record.
func (s *Contract) RecordProof(ctx contractapi.TransactionContextInterface, recordID string) (*Proof, error) {
	l, err := newLedger(ctx.GetStub())
	if err != nil {
		return nil, err
	}
	var entry RecordEntry
	if ok, err := l.get(recordKey(recordID), &entry); err != nil || !ok {
		return nil, orRefuse(err, "unknown-asset", "record %s is not recorded", recordID)
	}
	return &Proof{Record: recordID, TxID: entry.TxID, Time: entry.Time, Status: entry.Status, Code: entry.Code}, nil
}

func transientEvents(ctx contractapi.TransactionContextInterface) ([]SignedEvent, error) {
	transient, err := ctx.GetStub().GetTransient()
	if err != nil {
		return nil, fmt.Errorf("read the transient map: %w", err)
	}
	return decodeEvents(transient["events"])
}

// submitOne is SubmitEvents for exactly one event of the given types.
func submitOne(ctx contractapi.TransactionContextInterface, name string, types ...string) (*Outcome, error) {
	events, err := transientEvents(ctx)
	if err != nil {
		return nil, err
	}
	if len(events) != 1 {
		return nil, refuse("schema-invalid", "%s takes one event, got %d", name, len(events))
	}
	if rec, bad := decodeEvent(events[0]); bad == nil && !slices.Contains(types, rec.Type) {
		return nil, refuse("schema-invalid", "%s takes a %v record, got %s", name, types, rec.Type)
	}

	l, c, err := begin(ctx)
	if err != nil {
		return nil, err
	}
	outcome, err := applyEvent(l, c, events[0])
	if err != nil {
		return nil, err
	}
	return &outcome, nil
}

// checkDeviceID insists the id is derived from the key.
func checkDeviceID(deviceID, publicKeyB64 string) error {
	public, err := base64.StdEncoding.DecodeString(publicKeyB64)
	if err != nil {
		return refuse("schema-invalid", "the public key is not base64")
	}
	if len(public) != 32 {
		return refuse("schema-invalid", "the public key is not 32 raw bytes")
	}
	sum := sha256.Sum256(public)
	digest := hex.EncodeToString(sum[:])[:12]
	if !deviceIDRe.MatchString(deviceID) || deviceID[2:] != digest {
		return refuse("schema-invalid", "device id must be d-%s or h-%s", digest, digest)
	}
	return nil
}

// orRefuse passes a read error through, else refuses with code.
func orRefuse(err error, code, format string, args ...any) error {
	if err != nil {
		return err
	}
	return refuse(code, format, args...)
}
