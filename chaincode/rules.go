package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
)

// correctable types may replace the object their `corrects` record created.
var correctable = []string{"farmer", "plot", "harvest", "drying"}

// rules check everything first, then stage their writes on the event; each
// returns the key of the object the record is about. Order of checks matches
// shared/journey.py so both answer the same code.
var rules = map[string]func(*ledger, *event) (string, error){
	"farmer":     ruleFarmer,
	"plot":       rulePlot,
	"harvest":    ruleHarvest,
	"purchase":   rulePurchase,
	"drying":     ruleDrying,
	"lot":        ruleLot,
	"dispatch":   ruleDispatch,
	"receipt":    ruleReceipt,
	"processing": ruleProcessing,
	"transfer":   ruleTransfer,
	"sale":       ruleSale,
}

// body holds every field the rules read; the schema has checked their types.
type body struct {
	ID          string   `json:"id"`
	Farmer      string   `json:"farmer"`
	Plot        string   `json:"plot"`
	Harvest     string   `json:"harvest"`
	MassG       int64    `json:"mass_g"`
	HarvestedOn string   `json:"harvested_on"`
	Grade       string   `json:"grade"`
	Stage       string   `json:"stage"`
	Purchases   []string `json:"purchases"`
	Inputs      []Input  `json:"inputs"`
	ToOrg       string   `json:"to_org"`
	Shipment    string   `json:"shipment"`
	Product     string   `json:"product"`
	Units       int64    `json:"units"`
	OutputMassG int64    `json:"output_mass_g"`
	Asset       string   `json:"asset"`
	Batch       string   `json:"batch"`
	Corrects    string   `json:"corrects"`
	// Lots is a list of ids in a dispatch and of {lot, mass_g} in a receipt.
	Lots json.RawMessage `json:"lots"`
}

func bodyOf(ev *event) (*body, error) {
	var b body
	if err := json.Unmarshal(ev.rec.Body, &b); err != nil {
		return nil, refuse("schema-invalid", "%s: body cannot be read: %v", ev.rec.Type, err)
	}
	return &b, nil
}

// checkNew refuses an existing key unless the event corrects the record that made it.
func checkNew(l *ledger, ev *event, b *body, key string, old any) (bool, error) {
	var made struct {
		Record string `json:"record"`
	}
	ok, err := l.get(key, &made)
	if err != nil || !ok {
		return false, err
	}
	if slices.Contains(correctable, ev.rec.Type) && b.Corrects != "" && b.Corrects == made.Record {
		_, err := l.get(key, old)
		return true, err
	}
	return false, refuse("asset-exists", "%s exists", key)
}

// need reads key into v; unknown-asset when absent or (org != "") of another org.
func need(l *ledger, key, org string, v any) error {
	var owner struct {
		Org string `json:"org"`
	}
	ok, err := l.get(key, &owner)
	if err != nil || !ok || (org != "" && owner.Org != org) {
		return orRefuse(err, "unknown-asset", "%s is not on the ledger", key)
	}
	_, err = l.get(key, v)
	return err
}

func needOrg(l *ledger, slug string) error {
	ok, err := l.get(orgKey(slug), &Org{})
	if err != nil || !ok {
		return orRefuse(err, "unknown-asset", "organisation %s is not registered", slug)
	}
	return nil
}

func notOwner(key, owner string) error {
	return refuse("not-owner", "%s is owned by %s", key, owner)
}

func farmerOf(l *ledger, ev *event, code string) (string, error) {
	pseudonym := ev.pseudonym(code)
	return pseudonym, need(l, "farmer/"+pseudonym, ev.org, &Farmer{})
}

func farmAndPlot(l *ledger, ev *event, b *body) (string, string, error) {
	farmer, err := farmerOf(l, ev, b.Farmer)
	if err != nil {
		return "", "", err
	}
	plotID := ev.pseudonym(b.Plot)
	var plot Plot
	if err := need(l, "plot/"+plotID, ev.org, &plot); err != nil {
		return "", "", err
	}
	if plot.Farmer != farmer {
		return "", "", refuse("unknown-asset", "plot %s is not a plot of farmer %s", plotID, farmer)
	}
	return farmer, plotID, nil
}

// sumGrams adds the grams per referenced key, in order of first mention.
func sumGrams(inputs []Input, keyOf func(Input) string) ([]string, map[string]int64) {
	var order []string
	sums := map[string]int64{}
	for _, in := range inputs {
		key := keyOf(in)
		if _, seen := sums[key]; !seen {
			order = append(order, key)
		}
		sums[key] += in.MassG
	}
	return order, sums
}

func take(remaining *int64, grams int64, key string) error {
	if grams > *remaining {
		return refuse("mass-exceeded", "%s has %d g left, %d g asked", key, *remaining, grams)
	}
	*remaining -= grams
	return nil
}

func ruleFarmer(l *ledger, ev *event) (string, error) {
	b, err := bodyOf(ev)
	if err != nil {
		return "", err
	}
	key := "farmer/" + ev.pseudonym(b.ID)
	if _, err := checkNew(l, ev, b, key, &Farmer{}); err != nil {
		return "", err
	}
	ev.stage(key, &Farmer{Org: ev.org, Record: ev.rec.ID})
	return key, nil
}

func rulePlot(l *ledger, ev *event) (string, error) {
	b, err := bodyOf(ev)
	if err != nil {
		return "", err
	}
	key := "plot/" + ev.pseudonym(b.ID)
	if _, err := checkNew(l, ev, b, key, &Plot{}); err != nil {
		return "", err
	}
	farmer, err := farmerOf(l, ev, b.Farmer)
	if err != nil {
		return "", err
	}
	ev.stage(key, &Plot{Org: ev.org, Farmer: farmer, Record: ev.rec.ID})
	return key, nil
}

func ruleHarvest(l *ledger, ev *event) (string, error) {
	b, err := bodyOf(ev)
	if err != nil {
		return "", err
	}
	key := "harvest/" + b.ID
	var old Harvest
	corrected, err := checkNew(l, ev, b, key, &old)
	if err != nil {
		return "", err
	}
	farmer, plot, err := farmAndPlot(l, ev, b)
	if err != nil {
		return "", err
	}
	harvest := &Harvest{
		Org: ev.org, Farmer: farmer, Plot: plot, MassG: b.MassG, HarvestedOn: b.HarvestedOn, Record: ev.rec.ID,
	}
	if corrected {
		harvest.PurchasedG = old.PurchasedG
	}
	ev.stage(key, harvest)
	return key, nil
}

func rulePurchase(l *ledger, ev *event) (string, error) {
	b, err := bodyOf(ev)
	if err != nil {
		return "", err
	}
	key := purchaseKey(b.ID)
	if _, err := checkNew(l, ev, b, key, &Purchase{}); err != nil {
		return "", err
	}
	farmer, plot, err := farmAndPlot(l, ev, b)
	if err != nil {
		return "", err
	}
	if b.Harvest != "" {
		var harvest Harvest
		if err := need(l, "harvest/"+b.Harvest, ev.org, &harvest); err != nil {
			return "", err
		}
		if harvest.PurchasedG+b.MassG > harvest.MassG {
			left := harvest.MassG - harvest.PurchasedG
			return "", refuse("mass-exceeded", "harvest %s has %d g left to purchase", b.Harvest, left)
		}
		harvest.PurchasedG += b.MassG
		ev.stage("harvest/"+b.Harvest, &harvest)
	}

	ev.stage(key, &Purchase{
		Org: ev.org, Owner: ev.org, Farmer: farmer, Plot: plot, Harvest: b.Harvest,
		MassG: b.MassG, RemainingG: b.MassG, Grade: b.Grade, Record: ev.rec.ID,
	})
	ev.ownedBy(key, ev.org)
	ev.privKey = key
	ev.private = &PrivatePurchase{
		Record: ev.rec.ID,
		Raw:    base64.StdEncoding.EncodeToString(ev.rec.Raw),
		Sig:    base64.StdEncoding.EncodeToString(ev.rec.Sig),
	}
	return key, nil
}

func ruleDrying(l *ledger, ev *event) (string, error) {
	b, err := bodyOf(ev)
	if err != nil {
		return "", err
	}
	key := "drying/" + b.ID
	if _, err := checkNew(l, ev, b, key, &Drying{}); err != nil {
		return "", err
	}
	for _, id := range b.Purchases {
		var purchase Purchase
		if err := need(l, purchaseKey(id), "", &purchase); err != nil {
			return "", err
		}
		if purchase.Owner != ev.org {
			return "", notOwner(purchaseKey(id), purchase.Owner)
		}
	}
	ev.stage(key, &Drying{Org: ev.org, Stage: b.Stage, Purchases: b.Purchases, Record: ev.rec.ID})
	return key, nil
}

func ruleLot(l *ledger, ev *event) (string, error) {
	b, err := bodyOf(ev)
	if err != nil {
		return "", err
	}
	key := lotKey(b.ID)
	if _, err := checkNew(l, ev, b, key, &Lot{}); err != nil {
		return "", err
	}
	purchases := map[string]*Purchase{}
	for _, in := range b.Inputs {
		pkey := purchaseKey(in.Purchase)
		if purchases[pkey] != nil {
			continue
		}
		var purchase Purchase
		if err := need(l, pkey, "", &purchase); err != nil {
			return "", err
		}
		if purchase.Owner != ev.org {
			return "", notOwner(pkey, purchase.Owner)
		}
		purchases[pkey] = &purchase
	}

	order, sums := sumGrams(b.Inputs, func(in Input) string { return purchaseKey(in.Purchase) })
	var total int64
	for _, pkey := range order {
		if err := take(&purchases[pkey].RemainingG, sums[pkey], pkey); err != nil {
			return "", err
		}
		ev.stage(pkey, purchases[pkey])
		total += sums[pkey]
	}
	ev.stage(key, &Lot{
		Org: ev.org, Owner: ev.org, Holder: ev.org, Status: "held", MassG: total, RemainingG: total,
		Inputs: b.Inputs, Record: ev.rec.ID,
	})
	ev.ownedBy(key, ev.org)
	return key, nil
}

func ruleDispatch(l *ledger, ev *event) (string, error) {
	b, err := bodyOf(ev)
	if err != nil {
		return "", err
	}
	key := shipmentKey(b.ID)
	if _, err := checkNew(l, ev, b, key, &Shipment{}); err != nil {
		return "", err
	}
	var ids []string
	if err := json.Unmarshal(b.Lots, &ids); err != nil {
		return "", refuse("schema-invalid", "dispatch lots cannot be read: %v", err)
	}
	for i, id := range ids {
		if slices.Contains(ids[:i], id) {
			return "", refuse("schema-invalid", "a lot is named twice in the dispatch")
		}
	}
	if err := needOrg(l, b.ToOrg); err != nil {
		return "", err
	}

	lots := make([]*Lot, len(ids))
	for i, id := range ids {
		lots[i] = &Lot{}
		if err := need(l, lotKey(id), "", lots[i]); err != nil {
			return "", err
		}
		if lots[i].Holder != ev.org {
			return "", refuse("not-holder", "lot %s is held by %s", id, lots[i].Holder)
		}
		if lots[i].Status != "held" || lots[i].RemainingG == 0 {
			return "", refuse("out-of-order", "lot %s is %s with %d g left", id, lots[i].Status, lots[i].RemainingG)
		}
	}

	for i, id := range ids {
		lots[i].Status, lots[i].ToOrg, lots[i].Shipment = "in-transit", b.ToOrg, b.ID
		ev.stage(lotKey(id), lots[i])
	}
	ev.stage(key, &Shipment{FromOrg: ev.org, ToOrg: b.ToOrg, Lots: ids, Status: "in-transit", Record: ev.rec.ID})
	return key, nil
}

func ruleReceipt(l *ledger, ev *event) (string, error) {
	b, err := bodyOf(ev)
	if err != nil {
		return "", err
	}
	key := shipmentKey(b.Shipment)
	var shipment Shipment
	if err := need(l, key, "", &shipment); err != nil {
		return "", err
	}
	if shipment.ToOrg != ev.org {
		return "", refuse("not-recipient", "shipment %s goes to %s", b.Shipment, shipment.ToOrg)
	}
	if shipment.Status != "in-transit" {
		return "", refuse("out-of-order", "shipment %s is received", b.Shipment)
	}

	var items []Input
	if err := json.Unmarshal(b.Lots, &items); err != nil {
		return "", refuse("schema-invalid", "receipt lots cannot be read: %v", err)
	}
	var seen []string
	for _, item := range items {
		if slices.Contains(seen, item.Lot) {
			return "", refuse("schema-invalid", "lot %s is named twice", item.Lot)
		}
		if !slices.Contains(shipment.Lots, item.Lot) {
			return "", refuse("unknown-asset", "lot %s is not in shipment %s", item.Lot, b.Shipment)
		}
		seen = append(seen, item.Lot)
	}
	if len(seen) != len(shipment.Lots) {
		return "", refuse("schema-invalid", "a receipt names every lot of its shipment")
	}

	for _, item := range items {
		var lot Lot
		if _, err := l.get(lotKey(item.Lot), &lot); err != nil {
			return "", err
		}
		if item.MassG > lot.RemainingG {
			return "", refuse("mass-exceeded", "lot %s left with %d g, %d g received",
				item.Lot, lot.RemainingG, item.MassG)
		}
		lot.LostG += lot.RemainingG - item.MassG
		lot.Holder, lot.Status, lot.ToOrg, lot.RemainingG = ev.org, "held", "", item.MassG
		ev.stage(lotKey(item.Lot), &lot)
	}
	shipment.Status, shipment.Receipt = "received", ev.rec.ID
	ev.stage(key, &shipment)
	return key, nil
}

func ruleProcessing(l *ledger, ev *event) (string, error) {
	b, err := bodyOf(ev)
	if err != nil {
		return "", err
	}
	key := batchKey(b.ID)
	if _, err := checkNew(l, ev, b, key, &Batch{}); err != nil {
		return "", err
	}
	lots := map[string]*Lot{}
	for _, in := range b.Inputs {
		lkey := lotKey(in.Lot)
		lot := lots[lkey]
		if lot == nil {
			lot = &Lot{}
			if err := need(l, lkey, "", lot); err != nil {
				return "", err
			}
			if lot.Owner != ev.org {
				return "", notOwner(lkey, lot.Owner)
			}
			lots[lkey] = lot
		}
		if lot.Holder != ev.org || lot.Status != "held" {
			return "", refuse("not-holder", "lot %s is %s, held by %s", in.Lot, lot.Status, lot.Holder)
		}
	}

	order, sums := sumGrams(b.Inputs, func(in Input) string { return lotKey(in.Lot) })
	for _, lkey := range order {
		if err := take(&lots[lkey].RemainingG, sums[lkey], lkey); err != nil {
			return "", err
		}
		ev.stage(lkey, lots[lkey])
	}
	ev.stage(key, &Batch{
		Org: ev.org, Owner: ev.org, Product: b.Product, Units: b.Units, OutputMassG: b.OutputMassG,
		Inputs: b.Inputs, Record: ev.rec.ID,
	})
	ev.ownedBy(key, ev.org)
	return key, nil
}

func ruleTransfer(l *ledger, ev *event) (string, error) {
	b, err := bodyOf(ev)
	if err != nil {
		return "", err
	}
	// An asset is a lot or a product batch; both carry an owner.
	key := lotKey(b.Asset)
	var asset map[string]any
	ok, err := l.get(key, &asset)
	if err != nil {
		return "", err
	}
	if !ok {
		key = batchKey(b.Asset)
		if err := need(l, key, "", &asset); err != nil {
			return "", err
		}
	}
	if err := needOrg(l, b.ToOrg); err != nil {
		return "", err
	}
	if owner := fmt.Sprint(asset["owner"]); owner != ev.org {
		return "", notOwner(key, owner)
	}

	var staged any
	if ok {
		var lot Lot
		if _, err := l.get(key, &lot); err != nil {
			return "", err
		}
		lot.Owner = b.ToOrg
		staged = &lot
	} else {
		var batch Batch
		if _, err := l.get(key, &batch); err != nil {
			return "", err
		}
		batch.Owner = b.ToOrg
		staged = &batch
	}
	ev.stage(key, staged)
	ev.ownedBy(key, b.ToOrg)
	// A blind write under the receiving org's key-level policy: its peer must endorse.
	ev.stage(inboxKey(b.ToOrg), &Inbox{Last: ev.rec.ID})
	return key, nil
}

func ruleSale(l *ledger, ev *event) (string, error) {
	b, err := bodyOf(ev)
	if err != nil {
		return "", err
	}
	key := "sale/" + b.ID
	if _, err := checkNew(l, ev, b, key, &Sale{}); err != nil {
		return "", err
	}
	bkey := batchKey(b.Batch)
	var batch Batch
	if err := need(l, bkey, "", &batch); err != nil {
		return "", err
	}
	if batch.Owner != ev.org {
		return "", notOwner(bkey, batch.Owner)
	}
	if batch.SoldUnits+b.Units > batch.Units {
		return "", refuse("already-sold", "batch %s has %d unsold units", b.Batch, batch.Units-batch.SoldUnits)
	}

	batch.SoldUnits += b.Units
	ev.stage(bkey, &batch)
	ev.stage(key, &Sale{Org: ev.org, Batch: b.Batch, Units: b.Units, Record: ev.rec.ID})
	return key, nil
}
