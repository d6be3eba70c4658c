package main

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
)

func TestSubmitEventsAppliesInOrder(t *testing.T) {
	w, coop, _ := twoOrgs(t)

	res := submit(w, coopMSP, []string{coopMSP}, "SubmitEvents",
		coop.sign("farmer", farmerBody()), coop.sign("plot", plotBody()),
		coop.sign("purchase", purchaseBody("PU-1", 1000)), coop.sign("lot", lotBody("LOT-1", "PU-1", 600)),
		coop.sign("lot", lotBody("LOT-2", "PU-1", 400)),
	)

	wantCodes(t, outcomes(t, res), "", "", "", "", "")
	var purchase Purchase
	stateOf(t, w, purchaseKey("PU-1"), &purchase)
	if purchase.RemainingG != 0 {
		t.Errorf("purchase remaining = %d, want 0: the second lot must see the first", purchase.RemainingG)
	}
	var device Device
	stateOf(t, w, deviceKey(coop.id), &device)
	if device.Seq != 5 || device.Last != coop.last {
		t.Errorf("device head = %d %s", device.Seq, device.Last)
	}
}

func TestSubmitEventsRefusesBadEntries(t *testing.T) {
	w, coop, _ := twoOrgs(t)
	good := coop.sign("farmer", farmerBody())
	raw, _ := base64.StdEncoding.DecodeString(good.Raw)

	res := submit(w, coopMSP, nil, "SubmitEvents",
		SignedEvent{Raw: "not base64!", Sig: good.Sig},
		SignedEvent{Raw: good.Raw, Sig: "%%"},
		SignedEvent{Raw: good.Raw, Sig: base64.StdEncoding.EncodeToString([]byte("short"))},
		SignedEvent{Raw: base64.StdEncoding.EncodeToString([]byte(`[1,2]`)), Sig: good.Sig},
		SignedEvent{Raw: base64.StdEncoding.EncodeToString(append([]byte(" "), raw...)), Sig: good.Sig},
		good,
	)

	got := outcomes(t, res)
	wantCodes(t, got, "malformed-record", "malformed-record", "malformed-record", "malformed-record",
		"malformed-record", "")
	if got[0].ID != "" || got[1].ID != recordID(raw) {
		t.Errorf("ids = %q, %q: undecodable bytes have no id, decodable ones do", got[0].ID, got[1].ID)
	}
}

func TestSubmitEventsNeedsTransientEvents(t *testing.T) {
	w, _, _ := twoOrgs(t)

	missing := w.invoke(call{msp: coopMSP, fn: "SubmitEvents"})
	garbled := w.invoke(call{msp: coopMSP, fn: "SubmitEvents", transient: map[string][]byte{"events": []byte("{")}})

	wantError(t, missing, "schema-invalid")
	wantError(t, garbled, "schema-invalid")
}

func TestRefusedEventAdvancesChainButWritesNothing(t *testing.T) {
	w, coop, _ := twoOrgs(t)
	mustApply(t, submit(w, coopMSP, nil, "SubmitEvents",
		coop.sign("farmer", farmerBody()), coop.sign("plot", plotBody()),
		coop.sign("purchase", purchaseBody("PU-1", 1000))))

	res := submit(w, coopMSP, nil, "SubmitEvents", coop.sign("lot", lotBody("LOT-1", "PU-1", 1001)))

	wantCodes(t, outcomes(t, res), "mass-exceeded")
	if w.state[lotKey("LOT-1")] != nil {
		t.Error("a refused lot was written")
	}
	var entry RecordEntry
	stateOf(t, w, recordKey(coop.last), &entry)
	if entry.Status != statusRefused || entry.Code != "mass-exceeded" || entry.Seq != 4 {
		t.Errorf("record entry = %+v", entry)
	}
}

func TestPurchaseKeepsPriceAndCodesOffTheChannel(t *testing.T) {
	w, coop, _ := twoOrgs(t)

	mustApply(t, submit(w, coopMSP, []string{coopMSP}, "SubmitEvents",
		coop.sign("farmer", farmerBody()), coop.sign("plot", plotBody()),
		coop.sign("purchase", purchaseBody("PU-1", 1000))))

	for key, value := range w.state {
		for _, secret := range []string{"987654", "CI-SOU-0001", "Awa", "+225"} {
			if strings.Contains(key, secret) || strings.Contains(string(value), secret) {
				t.Errorf("%q is on the channel at %s", secret, key)
			}
		}
	}
	var private PrivatePurchase
	if err := json.Unmarshal(w.private["_implicit_org_CoopMSP"]["purchase/PU-1"], &private); err != nil {
		t.Fatalf("private purchase: %v", err)
	}
	raw, _ := base64.StdEncoding.DecodeString(private.Raw)
	if !strings.Contains(string(raw), `"price":987654`) || private.Record != coop.last {
		t.Errorf("private purchase = %+v", private)
	}
}

func TestOneEventTransactions(t *testing.T) {
	w, coop, maker := twoOrgs(t)
	mustApply(t, submit(w, coopMSP, []string{coopMSP}, "SubmitEvents",
		coop.sign("farmer", farmerBody()), coop.sign("plot", plotBody()),
		coop.sign("purchase", purchaseBody("PU-1", 1000)), coop.sign("lot", lotBody("LOT-1", "PU-1", 1000))))
	harvest := map[string]any{
		"id": "H-1", "farmer": "CI-SOU-0001", "plot": "CI-SOU-0001-P1", "mass_g": 5000, "harvested_on": "2025-02-01",
	}

	steps := []struct {
		fn        string
		msp       string
		endorsers []string
		ev        SignedEvent
	}{
		{"RecordHarvest", coopMSP, []string{coopMSP}, coop.sign("harvest", harvest)},
		{"RecordShipment", coopMSP, []string{coopMSP}, coop.sign("dispatch", dispatchBody("SH-1", "LOT-1", makerOrg))},
		{"RecordShipment", makerMSP, []string{makerMSP, coopMSP},
			maker.sign("receipt", receiptBody("SH-1", "LOT-1", 900))},
		{"TransferOwnership", coopMSP, []string{coopMSP, makerMSP},
			coop.sign("transfer", map[string]any{"asset": "LOT-1", "to_org": makerOrg})},
		{"ProcessBeans", makerMSP, []string{makerMSP},
			maker.sign("processing", processingBody("B-1", "LOT-1", 900, 9))},
		{"RecordSale", makerMSP, []string{makerMSP},
			maker.sign("sale", map[string]any{"id": "S-1", "batch": "B-1", "units": 9})},
	}
	for _, st := range steps {
		res := submit(w, st.msp, st.endorsers, st.fn, st.ev)

		if got := outcome(t, res); got.Status != statusApplied {
			t.Fatalf("%s: %+v", st.fn, got)
		}
	}

	var batch Batch
	stateOf(t, w, batchKey("B-1"), &batch)
	if batch.SoldUnits != 9 {
		t.Errorf("sold units = %d", batch.SoldUnits)
	}
}

func TestOneEventTransactionsCheckTheirInput(t *testing.T) {
	w, coop, _ := twoOrgs(t)
	farmer := coop.sign("farmer", farmerBody())

	wrongType := submit(w, coopMSP, nil, "RecordHarvest", farmer)
	two := submit(w, coopMSP, nil, "RecordSale", farmer, farmer)
	none := submit(w, coopMSP, nil, "ProcessBeans")

	wantError(t, wrongType, "schema-invalid")
	wantError(t, two, "schema-invalid")
	wantError(t, none, "schema-invalid")
}

func TestTransferNeedsBothOrganisations(t *testing.T) {
	w, coop, maker := twoOrgs(t)
	shippedLot(t, w, coop)
	mustApply(t, submit(w, makerMSP, []string{makerMSP, coopMSP}, "SubmitEvents",
		maker.sign("receipt", receiptBody("SH-1", "LOT-1", 300000))))
	transfer := coop.sign("transfer", map[string]any{"asset": "LOT-1", "to_org": makerOrg})

	onlyOwner := submit(w, coopMSP, []string{coopMSP}, "TransferOwnership", transfer)
	onlyNewOwner := submit(w, coopMSP, []string{makerMSP}, "TransferOwnership", transfer)
	both := submit(w, coopMSP, []string{coopMSP, makerMSP}, "TransferOwnership", transfer)

	if onlyOwner.valid || !strings.Contains(onlyOwner.reason, makerMSP) {
		t.Errorf("owner alone: valid=%t %s", onlyOwner.valid, onlyOwner.reason)
	}
	if onlyNewOwner.valid || !strings.Contains(onlyNewOwner.reason, coopMSP) {
		t.Errorf("new owner alone: valid=%t %s", onlyNewOwner.valid, onlyNewOwner.reason)
	}
	if got := outcome(t, both); got.Status != statusApplied {
		t.Fatalf("both: %+v", got)
	}
	if orgs := policyOrgs(t, w, lotKey("LOT-1")); len(orgs) != 1 || orgs[0] != makerMSP {
		t.Errorf("lot policy after transfer = %v, want [%s]", orgs, makerMSP)
	}
}

func TestReceiptOfALotTheSenderOwnsNeedsTheOwner(t *testing.T) {
	w, coop, maker := twoOrgs(t)
	shippedLot(t, w, coop)
	receipt := maker.sign("receipt", receiptBody("SH-1", "LOT-1", 300000))

	alone := submit(w, makerMSP, []string{makerMSP}, "SubmitEvents", receipt)
	with := submit(w, makerMSP, []string{makerMSP, coopMSP}, "SubmitEvents", receipt)

	if alone.valid || !strings.Contains(alone.reason, coopMSP) {
		t.Errorf("maker alone: valid=%t %s", alone.valid, alone.reason)
	}
	wantCodes(t, outcomes(t, with), "")
}

func TestSaltedEventsCannotBeEndorsedByAnotherOrg(t *testing.T) {
	w, coop, _ := twoOrgs(t)
	farmer := coop.sign("farmer", farmerBody())

	both := submit(w, coopMSP, []string{coopMSP, makerMSP}, "SubmitEvents", farmer)
	own := submit(w, coopMSP, []string{coopMSP}, "SubmitEvents", farmer)

	if both.valid || !strings.Contains(both.reason, "mismatch") {
		t.Errorf("both orgs: valid=%t %s", both.valid, both.reason)
	}
	wantCodes(t, outcomes(t, own), "")
}

func TestReadAsset(t *testing.T) {
	w, coop, _ := twoOrgs(t)
	shippedLot(t, w, coop)

	res := w.invoke(call{msp: makerMSP, fn: "ReadAsset", args: []string{lotKey("LOT-1")}})
	missing := w.invoke(call{msp: makerMSP, fn: "ReadAsset", args: []string{lotKey("LOT-9")}})

	var lot Lot
	if err := json.Unmarshal(res.payload, &lot); err != nil {
		t.Fatalf("%q: %v", res.payload, err)
	}
	if lot.Status != "in-transit" || lot.ToOrg != makerOrg || lot.Owner != coopOrg {
		t.Errorf("lot = %+v", lot)
	}
	wantError(t, missing, "unknown-asset")
}

func TestAssetHistory(t *testing.T) {
	w, coop, maker := twoOrgs(t)
	shippedLot(t, w, coop)
	mustApply(t, submit(w, makerMSP, nil, "SubmitEvents", maker.sign("receipt", receiptBody("SH-1", "LOT-1", 299000))))

	res := w.invoke(call{msp: makerMSP, fn: "AssetHistory", args: []string{lotKey("LOT-1")}})
	none := w.invoke(call{msp: makerMSP, fn: "AssetHistory", args: []string{lotKey("LOT-9")}})

	var entries []HistoryEntry
	if err := json.Unmarshal(res.payload, &entries); err != nil {
		t.Fatalf("%q: %v", res.payload, err)
	}
	if len(entries) != 2 || entries[0].TxID == entries[1].TxID || entries[1].Time == "" {
		t.Fatalf("history = %+v", entries)
	}
	var last Lot
	if err := json.Unmarshal(entries[1].Value, &last); err != nil || last.Holder != makerOrg || last.LostG != 1000 {
		t.Errorf("last value = %+v (%v)", last, err)
	}
	if string(none.payload) != "[]" {
		t.Errorf("history of nothing = %q", none.payload)
	}
}

func TestRecordProof(t *testing.T) {
	w, coop, _ := twoOrgs(t)
	ev := coop.sign("farmer", farmerBody())
	applied := submit(w, coopMSP, nil, "SubmitEvents", ev)
	id := outcomes(t, applied)[0].ID

	res := w.invoke(call{msp: makerMSP, fn: "RecordProof", args: []string{id}})
	missing := w.invoke(call{msp: makerMSP, fn: "RecordProof", args: []string{strings.Repeat("0", 64)}})

	var proof Proof
	if err := json.Unmarshal(res.payload, &proof); err != nil {
		t.Fatalf("%q: %v", res.payload, err)
	}
	if proof.TxID == "" || proof.TxID != w.history[recordKey(id)][0].TxId || proof.Status != statusApplied {
		t.Errorf("proof = %+v", proof)
	}
	if proof.Time != w.history[recordKey(id)][0].Timestamp.AsTime().Format("2006-01-02T15:04:05Z") {
		t.Errorf("proof time %s is not the transaction time", proof.Time)
	}
	wantError(t, missing, "unknown-asset")
}
