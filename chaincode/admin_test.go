package main

import (
	"encoding/json"
	"testing"

	"github.com/hyperledger/fabric-chaincode-go/v2/pkg/statebased"
)

func policyOrgs(t *testing.T, w *world, key string) []string {
	t.Helper()
	ep, err := statebased.NewStateEP(w.sbe[key])
	if err != nil {
		t.Fatalf("policy of %s: %v", key, err)
	}
	return ep.ListOrgs()
}

func TestRegisterOrg(t *testing.T) {
	w := newWorld(t)

	res := admin(w, coopMSP, "RegisterOrg", coopOrg)

	mustCommit(t, res)
	var org Org
	stateOf(t, w, "org/"+coopOrg, &org)
	if org.MSP != coopMSP {
		t.Errorf("org = %+v", org)
	}
	if got := policyOrgs(t, w, "inbox/"+coopOrg); len(got) != 1 || got[0] != coopMSP {
		t.Errorf("inbox policy orgs = %v, want [%s]", got, coopMSP)
	}
}

func TestRegisterOrgRefusals(t *testing.T) {
	w := newWorld(t)
	mustCommit(t, admin(w, coopMSP, "RegisterOrg", coopOrg))

	cases := []struct {
		name string
		c    call
		code string
	}{
		{"not an admin", call{msp: makerMSP, fn: "RegisterOrg", args: []string{makerOrg}}, "not-admin"},
		{"bad slug", call{msp: makerMSP, admin: true, fn: "RegisterOrg", args: []string{"Maker!"}}, "schema-invalid"},
		{"slug taken", call{msp: makerMSP, admin: true, fn: "RegisterOrg", args: []string{coopOrg}}, "asset-exists"},
		{"MSP has one", call{msp: coopMSP, admin: true, fn: "RegisterOrg", args: []string{"coop-two"}},
			"asset-exists"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := w.invoke(tc.c)

			wantError(t, res, tc.code)
		})
	}
}

func TestSetPseudonymSalt(t *testing.T) {
	w := newWorld(t)
	mustCommit(t, admin(w, coopMSP, "RegisterOrg", coopOrg))
	salt := map[string][]byte{"salt": []byte("sixteen bytes at least")}

	res := w.invoke(call{msp: coopMSP, admin: true, fn: "SetPseudonymSalt", transient: salt})

	mustCommit(t, res)
	if w.private["_implicit_org_CoopMSP"]["salt"] == nil {
		t.Fatal("the salt is not in the org's implicit collection")
	}
	for key, value := range w.state {
		if string(value) == string(salt["salt"]) {
			t.Errorf("the salt leaked into public state at %s", key)
		}
	}
}

func TestSetPseudonymSaltRefusals(t *testing.T) {
	w := newWorld(t)
	mustCommit(t, admin(w, coopMSP, "RegisterOrg", coopOrg))
	good := map[string][]byte{"salt": []byte("sixteen bytes at least")}
	mustCommit(t, w.invoke(call{msp: coopMSP, admin: true, fn: "SetPseudonymSalt", transient: good}))

	cases := []struct {
		name string
		c    call
		code string
	}{
		{"unregistered MSP", call{msp: makerMSP, admin: true, transient: good}, "unknown-asset"},
		{"not an admin", call{msp: coopMSP, transient: good}, "not-admin"},
		{"too short", call{msp: coopMSP, admin: true, transient: map[string][]byte{"salt": []byte("short")}},
			"schema-invalid"},
		{"set already", call{msp: coopMSP, admin: true, transient: good}, "asset-exists"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.c.fn = "SetPseudonymSalt"

			res := w.invoke(tc.c)

			wantError(t, res, tc.code)
		})
	}
}

func TestRegisterDevice(t *testing.T) {
	w := newWorld(t)
	mustCommit(t, admin(w, coopMSP, "RegisterOrg", coopOrg))
	d := newDevice(t, "tablet", coopOrg)
	hubID := "h-" + d.id[2:]

	res := admin(w, coopMSP, "RegisterDevice", d.id, d.publicB64(), coopOrg, "cooperative")
	hub := admin(w, coopMSP, "RegisterDevice", hubID, d.publicB64(), coopOrg, "operator")

	mustCommit(t, res)
	var device Device
	if err := json.Unmarshal(res.payload, &device); err != nil {
		t.Fatal(err)
	}
	if device.Status != "active" || device.Seq != 0 || device.Last != genesis || device.Org != coopOrg {
		t.Errorf("device = %+v", device)
	}
	if got := policyOrgs(t, w, deviceKey(d.id)); len(got) != 1 || got[0] != coopMSP {
		t.Errorf("device policy orgs = %v", got)
	}
	mustCommit(t, hub)
}

func TestRegisterDeviceRefusals(t *testing.T) {
	w := newWorld(t)
	mustCommit(t, admin(w, coopMSP, "RegisterOrg", coopOrg))
	mustCommit(t, admin(w, makerMSP, "RegisterOrg", makerOrg))
	d, other := newDevice(t, "tablet", coopOrg), newDevice(t, "other", coopOrg)
	mustCommit(t, admin(w, coopMSP, "RegisterDevice", d.id, d.publicB64(), coopOrg, "cooperative"))

	cases := []struct {
		name  string
		msp   string
		admin bool
		args  []string
		code  string
	}{
		{"not an admin", coopMSP, false, []string{other.id, other.publicB64(), coopOrg, "cooperative"}, "not-admin"},
		{"admin of another org", makerMSP, true, []string{other.id, other.publicB64(), coopOrg, "cooperative"},
			"not-admin"},
		{"org unknown", coopMSP, true, []string{other.id, other.publicB64(), "coop-x", "cooperative"},
			"unknown-asset"},
		{"id of another key", coopMSP, true, []string{d.id, other.publicB64(), coopOrg, "cooperative"},
			"schema-invalid"},
		{"key not base64", coopMSP, true, []string{other.id, "%%%", coopOrg, "cooperative"}, "schema-invalid"},
		{"key too short", coopMSP, true, []string{other.id, "AAAA", coopOrg, "cooperative"}, "schema-invalid"},
		{"role unknown", coopMSP, true, []string{other.id, other.publicB64(), coopOrg, "farmer"}, "schema-invalid"},
		{"registered", coopMSP, true, []string{d.id, d.publicB64(), coopOrg, "cooperative"}, "asset-exists"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := w.invoke(call{msp: tc.msp, admin: tc.admin, fn: "RegisterDevice", args: tc.args})

			wantError(t, res, tc.code)
		})
	}
}

func TestRevokeDevice(t *testing.T) {
	w, coop, _ := twoOrgs(t)

	res := admin(w, coopMSP, "RevokeDevice", coop.id)

	mustCommit(t, res)
	var device Device
	stateOf(t, w, deviceKey(coop.id), &device)
	if device.Status != "revoked" {
		t.Errorf("status = %s", device.Status)
	}
	out := outcomes(t, submit(w, coopMSP, nil, "SubmitEvents", coop.sign("farmer", farmerBody())))
	wantCodes(t, out, "device-revoked")
}

func TestRevokeDeviceRefusals(t *testing.T) {
	w, coop, _ := twoOrgs(t)
	revoked := newDevice(t, "old", coopOrg)
	mustCommit(t, admin(w, coopMSP, "RegisterDevice", revoked.id, revoked.publicB64(), coopOrg, "cooperative"))
	mustCommit(t, admin(w, coopMSP, "RevokeDevice", revoked.id))

	cases := []struct {
		name  string
		msp   string
		admin bool
		id    string
		code  string
	}{
		{"unknown", coopMSP, true, "d-000000000000", "device-unknown"},
		{"not an admin", coopMSP, false, coop.id, "not-admin"},
		{"admin of another org", makerMSP, true, coop.id, "not-admin"},
		{"revoked already", coopMSP, true, revoked.id, "device-revoked"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := w.invoke(call{msp: tc.msp, admin: tc.admin, fn: "RevokeDevice", args: []string{tc.id}})

			wantError(t, res, tc.code)
		})
	}
}

func TestAdminAttributeCountsAsAdmin(t *testing.T) {
	w := newWorld(t)

	res := w.invoke(call{msp: coopMSP, adminAttr: true, fn: "RegisterOrg", args: []string{coopOrg}})

	mustCommit(t, res)
}
