package main

// State values; the JSON fields match shared/journey.py one for one.

// Org binds an organisation slug to its MSP id.
type Org struct {
	Slug string `json:"slug"`
	MSP  string `json:"msp"`
}

// MSPIndex finds an organisation by MSP id.
type MSPIndex struct {
	Slug string `json:"slug"`
}

// Inbox is written by every transfer to an organisation, under its policy.
type Inbox struct {
	Last string `json:"last"`
}

// Salt is an organisation's pseudonym salt, kept in its private collection.
type Salt struct {
	Salt string `json:"salt"`
}

// Device is a registered device key and the head of its chain.
type Device struct {
	ID        string `json:"id"`
	PublicKey string `json:"public_key"`
	Org       string `json:"org"`
	Role      string `json:"role"`
	Status    string `json:"status"`
	Seq       int64  `json:"seq"`
	Last      string `json:"last"`
}

// RecordEntry says what became of a record and in which transaction.
type RecordEntry struct {
	ID     string `json:"id"`
	Type   string `json:"type"`
	Device string `json:"device"`
	Seq    int64  `json:"seq"`
	Status string `json:"status"`
	Code   string `json:"code"`
	Asset  string `json:"asset"`
	TxID   string `json:"tx_id"`
	Time   string `json:"time"`
}

// Farmer is a pseudonymous farmer of an organisation.
type Farmer struct {
	Org    string `json:"org"`
	Record string `json:"record"`
}

// Plot is a pseudonymous plot of a farmer.
type Plot struct {
	Org    string `json:"org"`
	Farmer string `json:"farmer"`
	Record string `json:"record"`
}

// Harvest is beans harvested on a plot.
type Harvest struct {
	Org         string `json:"org"`
	Farmer      string `json:"farmer"`
	Plot        string `json:"plot"`
	MassG       int64  `json:"mass_g"`
	PurchasedG  int64  `json:"purchased_g"`
	HarvestedOn string `json:"harvested_on"`
	Record      string `json:"record"`
}

// Purchase is beans the cooperative bought; lots draw on remaining_g.
type Purchase struct {
	Org        string `json:"org"`
	Owner      string `json:"owner"`
	Farmer     string `json:"farmer"`
	Plot       string `json:"plot"`
	Harvest    string `json:"harvest"`
	MassG      int64  `json:"mass_g"`
	RemainingG int64  `json:"remaining_g"`
	Grade      string `json:"grade"`
	Record     string `json:"record"`
}

// PrivatePurchase is the signed purchase record, price included, kept private.
type PrivatePurchase struct {
	Record string `json:"record"`
	Raw    string `json:"raw"`
	Sig    string `json:"sig"`
}

// Drying is a fermentation or drying step on purchases.
type Drying struct {
	Org       string   `json:"org"`
	Stage     string   `json:"stage"`
	Purchases []string `json:"purchases"`
	Record    string   `json:"record"`
}

// Input names grams taken from a purchase or a lot.
type Input struct {
	Purchase string `json:"purchase,omitempty"`
	Lot      string `json:"lot,omitempty"`
	MassG    int64  `json:"mass_g"`
}

// Lot is bagged beans with an owner and a holder.
type Lot struct {
	Org        string  `json:"org"`
	Owner      string  `json:"owner"`
	Holder     string  `json:"holder"`
	Status     string  `json:"status"`
	ToOrg      string  `json:"to_org"`
	Shipment   string  `json:"shipment"`
	MassG      int64   `json:"mass_g"`
	RemainingG int64   `json:"remaining_g"`
	LostG      int64   `json:"lost_g"`
	Inputs     []Input `json:"inputs"`
	Record     string  `json:"record"`
}

// Shipment is lots on their way to another organisation.
type Shipment struct {
	FromOrg string   `json:"from_org"`
	ToOrg   string   `json:"to_org"`
	Lots    []string `json:"lots"`
	Status  string   `json:"status"`
	Record  string   `json:"record"`
	Receipt string   `json:"receipt"`
}

// Batch is a product batch made from lots; sales draw on its units.
type Batch struct {
	Org         string  `json:"org"`
	Owner       string  `json:"owner"`
	Product     string  `json:"product"`
	Units       int64   `json:"units"`
	SoldUnits   int64   `json:"sold_units"`
	OutputMassG int64   `json:"output_mass_g"`
	Inputs      []Input `json:"inputs"`
	Record      string  `json:"record"`
}

// Sale is units of a batch sold once.
type Sale struct {
	Org    string `json:"org"`
	Batch  string `json:"batch"`
	Units  int64  `json:"units"`
	Record string `json:"record"`
}
