package main

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"testing"

	"github.com/gowebpki/jcs"
)

const (
	coopOrg  = "coop-soubre"
	makerOrg = "maker-abidjan"
	coopMSP  = "CoopMSP"
	makerMSP = "MakerMSP"
)

// testDevice signs records with a fixed key and keeps its chain head.
type testDevice struct {
	t    *testing.T
	key  ed25519.PrivateKey
	id   string
	org  string
	seq  int64
	last string
}

func newDevice(t *testing.T, name, org string) *testDevice {
	seed := sha256.Sum256([]byte("go test " + name))
	key := ed25519.NewKeyFromSeed(seed[:])
	sum := sha256.Sum256(key.Public().(ed25519.PublicKey))
	return &testDevice{t: t, key: key, id: "d-" + hex.EncodeToString(sum[:])[:12], org: org, last: genesis}
}

func (d *testDevice) publicB64() string {
	return base64.StdEncoding.EncodeToString(d.key.Public().(ed25519.PublicKey))
}

// sign makes the next canonical record of the device.
func (d *testDevice) sign(rtype string, body map[string]any) SignedEvent {
	d.t.Helper()
	raw := d.canonical(map[string]any{
		"v": 1, "type": rtype, "device": d.id, "seq": d.seq + 1, "prev": d.last,
		"time": "2025-03-01T08:00:00Z", "body": body,
	})
	d.seq, d.last = d.seq+1, recordID(raw)
	return SignedEvent{Raw: base64.StdEncoding.EncodeToString(raw), Sig: d.sigOf(raw)}
}

func (d *testDevice) canonical(doc map[string]any) []byte {
	d.t.Helper()
	loose, err := json.Marshal(doc)
	if err != nil {
		d.t.Fatal(err)
	}
	raw, err := jcs.Transform(loose)
	if err != nil {
		d.t.Fatal(err)
	}
	return raw
}

func (d *testDevice) sigOf(raw []byte) string {
	return base64.StdEncoding.EncodeToString(ed25519.Sign(d.key, raw))
}

func eventsJSON(t *testing.T, events ...SignedEvent) map[string][]byte {
	t.Helper()
	data, err := json.Marshal(events)
	if err != nil {
		t.Fatal(err)
	}
	return map[string][]byte{"events": data}
}

// submit sends events from a client of msp, endorsed by the given peers' orgs.
func submit(w *world, msp string, endorsers []string, fn string, events ...SignedEvent) result {
	w.t.Helper()
	return w.invoke(call{msp: msp, endorsers: endorsers, fn: fn, transient: eventsJSON(w.t, events...)})
}

func outcomes(t *testing.T, res result) []Outcome {
	t.Helper()
	if !res.valid {
		t.Fatalf("transaction not committed: %s %s", res.message, res.reason)
	}
	var out []Outcome
	if err := json.Unmarshal(res.payload, &out); err != nil {
		t.Fatalf("outcomes %q: %v", res.payload, err)
	}
	return out
}

func outcome(t *testing.T, res result) Outcome {
	t.Helper()
	if !res.valid {
		t.Fatalf("transaction not committed: %s %s", res.message, res.reason)
	}
	var out Outcome
	if err := json.Unmarshal(res.payload, &out); err != nil {
		t.Fatalf("outcome %q: %v", res.payload, err)
	}
	return out
}

func wantCodes(t *testing.T, got []Outcome, want ...string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d outcomes, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i].Code != want[i] {
			t.Errorf("event %d: %s/%s (%s), want code %q", i, got[i].Status, got[i].Code, got[i].Detail, want[i])
		}
	}
}

func wantError(t *testing.T, res result, code string) {
	t.Helper()
	if res.valid {
		t.Fatalf("committed, want %s", code)
	}
	if got := codeOf(res); got != code {
		t.Fatalf("error %q, want code %s", res.message, code)
	}
}

func stateOf(t *testing.T, w *world, key string, v any) {
	t.Helper()
	data := w.state[key]
	if data == nil {
		t.Fatalf("%s is not in the state", key)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatal(err)
	}
}

func admin(w *world, msp, fn string, args ...string) result {
	return w.invoke(call{msp: msp, admin: true, fn: fn, args: args})
}

// twoOrgs registers both organisations, their salts and one device each.
func twoOrgs(t *testing.T) (*world, *testDevice, *testDevice) {
	w := newWorld(t)
	coop, maker := newDevice(t, "coop", coopOrg), newDevice(t, "maker", makerOrg)
	for _, org := range []struct{ slug, msp, role string }{
		{coopOrg, coopMSP, "cooperative"}, {makerOrg, makerMSP, "manufacturer"},
	} {
		mustCommit(t, admin(w, org.msp, "RegisterOrg", org.slug))
		salt := map[string][]byte{"salt": []byte("salt of " + org.slug + " 0123456789")}
		mustCommit(t, w.invoke(call{msp: org.msp, admin: true, fn: "SetPseudonymSalt", transient: salt}))
	}
	mustCommit(t, admin(w, coopMSP, "RegisterDevice", coop.id, coop.publicB64(), coopOrg, "cooperative"))
	mustCommit(t, admin(w, makerMSP, "RegisterDevice", maker.id, maker.publicB64(), makerOrg, "manufacturer"))
	return w, coop, maker
}

func mustCommit(t *testing.T, res result) {
	t.Helper()
	if !res.valid {
		t.Fatalf("transaction not committed: %s %s", res.message, res.reason)
	}
}

func mustApply(t *testing.T, res result) {
	t.Helper()
	for i, o := range outcomes(t, res) {
		if o.Status != statusApplied {
			t.Fatalf("event %d: %s/%s %s", i, o.Status, o.Code, o.Detail)
		}
	}
}

// Bodies of the journey, small and valid.

func farmerBody() map[string]any {
	return map[string]any{"id": "CI-SOU-0001", "name": "Awa Kouassi", "phone": "+225 0701020304"}
}

func plotBody() map[string]any {
	return map[string]any{
		"id": "CI-SOU-0001-P1", "farmer": "CI-SOU-0001", "gps_accuracy_m": 4,
		"geometry": map[string]any{"type": "Point", "coordinates": []float64{-6.61, 5.78}},
	}
}

func purchaseBody(id string, grams int) map[string]any {
	return map[string]any{
		"id": id, "farmer": "CI-SOU-0001", "plot": "CI-SOU-0001-P1", "mass_g": grams,
		"grade": "grade-1", "price": 987654, "currency": "XOF",
	}
}

func lotBody(id, purchase string, grams int) map[string]any {
	return map[string]any{"id": id, "inputs": []any{map[string]any{"purchase": purchase, "mass_g": grams}}}
}

func dispatchBody(id, lot, to string) map[string]any {
	return map[string]any{"id": id, "lots": []string{lot}, "to_org": to}
}

func receiptBody(shipment, lot string, grams int) map[string]any {
	return map[string]any{"shipment": shipment, "lots": []any{map[string]any{"lot": lot, "mass_g": grams}}}
}

func processingBody(id, lot string, grams, units int) map[string]any {
	return map[string]any{
		"id": id, "product": "Dark 70%", "units": units,
		"inputs": []any{map[string]any{"lot": lot, "mass_g": grams}},
	}
}

// shippedLot brings LOT-1 (300 kg) to the maker's door as SH-1, not yet received.
func shippedLot(t *testing.T, w *world, coop *testDevice) {
	t.Helper()
	mustApply(t, submit(w, coopMSP, []string{coopMSP}, "SubmitEvents",
		coop.sign("farmer", farmerBody()), coop.sign("plot", plotBody()),
		coop.sign("purchase", purchaseBody("PU-1", 400000)),
		coop.sign("lot", lotBody("LOT-1", "PU-1", 300000)),
		coop.sign("dispatch", dispatchBody("SH-1", "LOT-1", makerOrg)),
	))
}
