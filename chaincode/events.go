package main

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"slices"
)

const (
	statusApplied         = "applied"
	statusAlreadyRecorded = "already-recorded"
	statusRefused         = "refused"
)

// saltedTypes read the organisation's salt to pseudonymise codes.
var saltedTypes = []string{"farmer", "plot", "harvest", "purchase"}

type write struct {
	key   string
	value any
}

// event is one submitted record while it is checked and applied. Rules stage
// their writes here; nothing reaches the ledger unless every check passes.
type event struct {
	rec     *Record
	org     string
	salt    []byte
	writes  []write
	owners  []write // key → new owner org slug, for the key-level policy
	private *PrivatePurchase
	privKey string
}

func (e *event) stage(key string, value any) {
	for i := range e.writes {
		if e.writes[i].key == key {
			e.writes[i].value = value
			return
		}
	}
	e.writes = append(e.writes, write{key, value})
}

func (e *event) ownedBy(key, org string) {
	e.owners = append(e.owners, write{key, org})
}

// applyEvent runs checks 1 to 11 of README.md on one event. A refusal is an
// outcome; only a failure to read or write the ledger is an error.
func applyEvent(l *ledger, c *caller, se SignedEvent) (Outcome, error) {
	rec, bad := decodeEvent(se)
	if bad != nil {
		id := ""
		if rec != nil {
			id = rec.ID
		}
		return Outcome{ID: id, Status: statusRefused, Code: bad.Code, Detail: bad.Detail}, nil
	}

	ev, err := admit(l, c, rec)
	if refused, ok := asCodeError(err); ok {
		status := statusRefused
		if refused.Code == "already-recorded" {
			status = statusAlreadyRecorded
		}
		return Outcome{ID: rec.ID, Status: status, Code: refused.Code, Detail: refused.Detail}, nil
	} else if err != nil {
		return Outcome{}, err
	}

	asset, err := checkRules(l, ev)
	refused, ok := asCodeError(err)
	if err != nil && !ok {
		return Outcome{}, err
	}
	return settle(l, ev, asset, refused)
}

func checkRules(l *ledger, ev *event) (string, error) {
	if bad := validateBody(ev.rec.Type, ev.rec.Body); bad != nil {
		return "", bad
	}
	return rules[ev.rec.Type](l, ev)
}

func asCodeError(err error) (*CodeError, bool) {
	var ce *CodeError
	if errors.As(err, &ce) {
		return ce, true
	}
	return nil, false
}

// admit runs the checks that do not advance the chain.
func admit(l *ledger, c *caller, rec *Record) (*event, error) {
	var device Device
	if ok, err := l.get(deviceKey(rec.Device), &device); err != nil || !ok {
		return nil, orRefuse(err, "device-unknown", "device %s is not registered", rec.Device)
	}
	if device.Status == "revoked" {
		return nil, refuse("device-revoked", "device %s is revoked", rec.Device)
	}
	if c.org != device.Org {
		return nil, refuse("wrong-org", "device %s belongs to %s, not %s", rec.Device, device.Org, c.org)
	}

	public, err := base64.StdEncoding.DecodeString(device.PublicKey)
	if err != nil || len(public) != ed25519.PublicKeySize || !ed25519.Verify(public, rec.Raw, rec.Sig) {
		return nil, refuse("bad-signature", "the signature does not verify")
	}
	if ok, err := l.get(recordKey(rec.ID), &RecordEntry{}); err != nil || ok {
		return nil, orRefuse(err, "already-recorded", "record %s is on the ledger", rec.ID)
	}
	if err := checkChain(rec, &device); err != nil {
		return nil, err
	}

	ev := &event{rec: rec, org: device.Org}
	if slices.Contains(saltedTypes, rec.Type) {
		salt, err := orgSalt(l, device.Org)
		if err != nil {
			return nil, err
		}
		ev.salt = salt
	}
	return ev, nil
}

func checkChain(rec *Record, device *Device) error {
	switch {
	case rec.Seq > device.Seq+1:
		return refuse("chain-gap", "seq %d after %d: records are missing", rec.Seq, device.Seq)
	case rec.Seq <= device.Seq:
		return refuse("chain-broken", "seq %d is taken by another record of the device", rec.Seq)
	case rec.Prev != device.Last:
		return refuse("chain-broken", "prev is not the id of the last record")
	}
	return nil
}

func orgSalt(l *ledger, slug string) ([]byte, error) {
	var org Org
	if _, err := l.get(orgKey(slug), &org); err != nil {
		return nil, err
	}
	var salt Salt
	ok, err := l.getPrivate(org.MSP, "salt", &salt)
	if err != nil || !ok {
		return nil, orRefuse(err, "salt-missing", "%s has no pseudonym salt yet", slug)
	}
	return base64.StdEncoding.DecodeString(salt.Salt)
}

// settle advances the chain and stores the record, applied or refused.
func settle(l *ledger, ev *event, asset string, refused *CodeError) (Outcome, error) {
	rec := ev.rec
	var device Device
	if _, err := l.get(deviceKey(rec.Device), &device); err != nil {
		return Outcome{}, err
	}
	device.Seq, device.Last = rec.Seq, rec.ID
	if err := l.put(deviceKey(rec.Device), &device); err != nil {
		return Outcome{}, err
	}
	if refused == nil {
		if err := commitWrites(l, ev); err != nil {
			return Outcome{}, err
		}
	}

	entry := RecordEntry{
		ID: rec.ID, Type: rec.Type, Device: rec.Device, Seq: rec.Seq, Status: statusApplied,
		Asset: asset, TxID: l.txID, Time: l.time,
	}
	if refused != nil {
		entry.Status, entry.Code, entry.Asset = statusRefused, refused.Code, ""
	}
	if err := l.put(recordKey(rec.ID), &entry); err != nil {
		return Outcome{}, err
	}
	if refused != nil {
		return Outcome{ID: rec.ID, Status: statusRefused, Code: refused.Code, Detail: refused.Detail}, nil
	}
	return Outcome{ID: rec.ID, Status: statusApplied}, nil
}

func commitWrites(l *ledger, ev *event) error {
	for _, w := range ev.writes {
		if err := l.put(w.key, w.value); err != nil {
			return err
		}
	}
	for _, o := range ev.owners {
		var org Org
		if _, err := l.get(orgKey(o.value.(string)), &org); err != nil {
			return err
		}
		if err := l.endorseBy(o.key, org.MSP); err != nil {
			return err
		}
	}
	if ev.private != nil {
		var org Org
		if _, err := l.get(orgKey(ev.org), &org); err != nil {
			return err
		}
		return l.putPrivate(org.MSP, ev.privKey, ev.private)
	}
	return nil
}

// pseudonym is the hex HMAC-SHA256 of a farmer or plot code under the org's salt.
func (e *event) pseudonym(code string) string {
	mac := hmac.New(sha256.New, e.salt)
	mac.Write([]byte(code))
	return hex.EncodeToString(mac.Sum(nil))
}
