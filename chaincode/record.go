package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/gowebpki/jcs"
)

// genesis is the prev of a device's first record.
var genesis = strings.Repeat("0", 64)

var (
	recordTypes = []string{
		"farmer", "plot", "harvest", "purchase", "drying", "lot",
		"dispatch", "receipt", "processing", "transfer", "sale",
	}
	topKeys  = []string{"body", "device", "prev", "seq", "time", "type", "v"}
	deviceRe = regexp.MustCompile(`^[a-z][a-z0-9-]{1,39}$`)
	hex64Re  = regexp.MustCompile(`^[0-9a-f]{64}$`)
	timeRe   = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$`)
	seqRe    = regexp.MustCompile(`^[1-9][0-9]{0,17}$`)
)

// SignedEvent is one entry of the transient `events` list.
type SignedEvent struct {
	Raw string `json:"raw"`
	Sig string `json:"sig"`
}

// Record is a decoded signed record: its bytes, signature, id and envelope.
type Record struct {
	Raw    []byte
	Sig    []byte
	ID     string
	Type   string
	Device string
	Seq    int64
	Prev   string
	Time   string
	Body   json.RawMessage
}

// recordID is the hex SHA-256 of the signed bytes.
func recordID(raw []byte) string {
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:])
}

// decodeEvent turns a transient entry into a Record; the id is known as soon as
// the bytes are, so a refusal can name it.
func decodeEvent(ev SignedEvent) (*Record, *CodeError) {
	raw, err := base64.StdEncoding.DecodeString(ev.Raw)
	if err != nil {
		return nil, refuse("malformed-record", "raw is not base64: %v", err)
	}
	rec := &Record{Raw: raw, ID: recordID(raw)}
	if rec.Sig, err = base64.StdEncoding.DecodeString(ev.Sig); err != nil {
		return rec, refuse("malformed-record", "sig is not base64: %v", err)
	}
	if len(rec.Sig) != 64 {
		return rec, refuse("malformed-record", "the signature is not 64 bytes")
	}
	return rec, parseEnvelope(rec)
}

// parseEnvelope reads and checks the envelope, insisting on canonical bytes,
// with the same checks as shared/record.py.
func parseEnvelope(rec *Record) *CodeError {
	canonical, err := jcs.Transform(rec.Raw)
	if err != nil {
		return refuse("malformed-record", "record bytes are not JSON: %v", err)
	}

	var doc map[string]json.RawMessage
	if err := json.Unmarshal(rec.Raw, &doc); err != nil {
		return refuse("malformed-record", "record bytes are not a JSON object")
	}
	if err := checkEnvelope(rec, doc); err != nil {
		return err
	}
	if !bytes.Equal(canonical, rec.Raw) {
		return refuse("malformed-record", "record bytes are not RFC 8785 canonical JSON; sign the canonical form")
	}
	return nil
}

func checkEnvelope(rec *Record, doc map[string]json.RawMessage) *CodeError {
	keys := make([]string, 0, len(doc))
	for k := range doc {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if !slices.Equal(keys, topKeys) {
		return refuse("malformed-record", "envelope keys wrong: %s", strings.Join(keys, ", "))
	}

	var problems []string
	if string(doc["v"]) != "1" {
		problems = append(problems, "v must be 1")
	}
	if err := json.Unmarshal(doc["type"], &rec.Type); err != nil || !slices.Contains(recordTypes, rec.Type) {
		problems = append(problems, "type is not a record type")
	}
	if err := json.Unmarshal(doc["device"], &rec.Device); err != nil || !deviceRe.MatchString(rec.Device) {
		problems = append(problems, "device is not a device id")
	}
	seq := string(doc["seq"])
	if !seqRe.MatchString(seq) {
		problems = append(problems, "seq must be a whole number from 1")
	} else {
		rec.Seq, _ = strconv.ParseInt(seq, 10, 64)
	}
	if err := json.Unmarshal(doc["prev"], &rec.Prev); err != nil || !hex64Re.MatchString(rec.Prev) {
		problems = append(problems, "prev must be 64 lower-case hex digits")
	}
	if err := json.Unmarshal(doc["time"], &rec.Time); err != nil || !timeRe.MatchString(rec.Time) {
		problems = append(problems, "time is not YYYY-MM-DDThh:mm:ssZ")
	}
	rec.Body = doc["body"]
	if !bytes.HasPrefix(bytes.TrimSpace(rec.Body), []byte("{")) {
		problems = append(problems, "body must be an object")
	}
	if len(problems) > 0 {
		return refuse("malformed-record", "%s", strings.Join(problems, "; "))
	}

	if rec.Seq == 1 && rec.Prev != genesis {
		return refuse("malformed-record", "the first record of a device must have prev = 64 zeros")
	}
	return nil
}

// decodeEvents reads the transient `events` value.
func decodeEvents(data []byte) ([]SignedEvent, error) {
	if data == nil {
		return nil, refuse("schema-invalid", "the transient map has no events")
	}
	var events []SignedEvent
	if err := json.Unmarshal(data, &events); err != nil {
		return nil, refuse("schema-invalid", "transient events are not a JSON list of {raw, sig}: %v", err)
	}
	return events, nil
}

func describe(rec *Record) string {
	return fmt.Sprintf("%s seq %d of %s", rec.Type, rec.Seq, rec.Device)
}
