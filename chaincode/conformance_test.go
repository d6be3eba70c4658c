package main

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// The scenarios of shared/conformance, also run against shared/journey.py.
const conformanceGlob = "../shared/conformance/*.json"

type scenario struct {
	Name        string                    `json:"name"`
	Steps       []step                    `json:"steps"`
	ExpectState map[string]map[string]any `json:"expect_state"`
}

type step struct {
	Op     string `json:"op"`
	Caller struct {
		Org   string `json:"org"`
		MSP   string `json:"msp"`
		Admin bool   `json:"admin"`
	} `json:"caller"`
	TxID   string            `json:"tx_id"`
	TxTime string            `json:"tx_time"`
	Args   map[string]string `json:"args"`
	Events []SignedEvent     `json:"events"`
	Expect json.RawMessage   `json:"expect"`
}

func TestConformance(t *testing.T) {
	files, err := filepath.Glob(conformanceGlob)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no conformance vectors at %s", conformanceGlob)
		}
		t.Skipf("no conformance vectors at %s: run python -m shared.conformance.generate", conformanceGlob)
	}

	for _, file := range files {
		var sc scenario
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, &sc); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		t.Run(sc.Name, func(t *testing.T) { runScenario(t, &sc) })
	}
}

func runScenario(t *testing.T, sc *scenario) {
	w := newWorld(t)

	for i, st := range sc.Steps {
		res := w.invoke(callFor(t, &st))

		checkStep(t, i, &st, res)
	}

	dumpState(t, w, sc.Name)
	for key, fields := range sc.ExpectState {
		var value map[string]any
		if err := json.Unmarshal(w.state[key], &value); err != nil || value == nil {
			t.Errorf("%s is not in the state", key)
			continue
		}
		for field, want := range fields {
			if !reflect.DeepEqual(value[field], want) {
				t.Errorf("%s.%s = %v, want %v", key, field, value[field], want)
			}
		}
	}
}

func callFor(t *testing.T, st *step) call {
	when, err := time.Parse(time.RFC3339, st.TxTime)
	if err != nil {
		t.Fatalf("tx_time %q: %v", st.TxTime, err)
	}
	c := call{msp: st.Caller.MSP, admin: st.Caller.Admin, txID: st.TxID, txTime: when}
	a := st.Args
	switch st.Op {
	case "register_org":
		c.fn, c.args = "RegisterOrg", []string{a["slug"]}
	case "set_salt":
		salt, err := base64.StdEncoding.DecodeString(a["salt"])
		if err != nil {
			t.Fatal(err)
		}
		c.fn, c.transient = "SetPseudonymSalt", map[string][]byte{"salt": salt}
	case "register_device":
		c.fn, c.args = "RegisterDevice", []string{a["device_id"], a["public_key"], a["org"], a["role"]}
	case "revoke_device":
		c.fn, c.args = "RevokeDevice", []string{a["device_id"]}
	case "submit":
		events, err := json.Marshal(st.Events)
		if err != nil {
			t.Fatal(err)
		}
		c.fn, c.transient = "SubmitEvents", map[string][]byte{"events": events}
	default:
		t.Fatalf("unknown step op %q", st.Op)
	}
	return c
}

func checkStep(t *testing.T, i int, st *step, res result) {
	t.Helper()
	if st.Op != "submit" {
		var want struct {
			Code string `json:"code"`
		}
		if err := json.Unmarshal(st.Expect, &want); err != nil {
			t.Fatal(err)
		}
		if got := codeOf(res); got != want.Code {
			t.Errorf("step %d %s: code %q (%s), want %q", i, st.Op, got, res.message, want.Code)
		}
		return
	}

	var want []Outcome
	if err := json.Unmarshal(st.Expect, &want); err != nil {
		t.Fatal(err)
	}
	if !res.valid {
		t.Fatalf("step %d submit failed: %s %s", i, res.message, res.reason)
	}
	var got []Outcome
	if err := json.Unmarshal(res.payload, &got); err != nil {
		t.Fatalf("step %d: outcomes %q: %v", i, res.payload, err)
	}
	if len(got) != len(want) {
		t.Fatalf("step %d: %d outcomes, want %d", i, len(got), len(want))
	}
	for j := range want {
		if got[j].Status != want[j].Status || got[j].Code != want[j].Code {
			t.Errorf("step %d event %d: %s/%s (%s), want %s/%s",
				i, j, got[j].Status, got[j].Code, got[j].Detail, want[j].Status, want[j].Code)
		}
	}
}

// codeOf is "" for a committed transaction, else the code its error starts with.
func codeOf(res result) string {
	if res.valid {
		return ""
	}
	code, _, _ := strings.Cut(res.message, ": ")
	return code
}

// dumpState writes the final state for tests/conformance, which compares it with
// what shared/journey.py wrote, value by value.
func dumpState(t *testing.T, w *world, name string) {
	dir := os.Getenv("COCOA_CONFORMANCE_STATE_DIR")
	if dir == "" {
		return
	}
	values := map[string]json.RawMessage{}
	for key, value := range w.state {
		values[key] = value
	}
	data, err := json.Marshal(values)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
}
