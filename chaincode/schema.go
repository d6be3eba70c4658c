package main

import (
	"embed"
	"fmt"
	"sort"
	"strings"

	"github.com/xeipuuv/gojsonschema"
)

// The schemas are copies of shared/schemas/*.json, so the chaincode package
// carries them; schema_test.go fails when the copies drift.
//
//go:generate sh -c "cp ../shared/schemas/*.json schemas/"
//go:embed schemas/*.json
var schemaFiles embed.FS

var schemas = loadSchemas()

func loadSchemas() map[string]*gojsonschema.Schema {
	out := make(map[string]*gojsonschema.Schema, len(recordTypes))
	for _, rtype := range recordTypes {
		text, err := schemaFiles.ReadFile("schemas/" + rtype + ".json")
		if err != nil {
			panic(fmt.Sprintf("schema %s missing: %v", rtype, err))
		}
		schema, err := gojsonschema.NewSchema(gojsonschema.NewBytesLoader(text))
		if err != nil {
			panic(fmt.Sprintf("schema %s invalid: %v", rtype, err))
		}
		out[rtype] = schema
	}
	return out
}

// validateBody checks a record body against its type's schema.
func validateBody(rtype string, body []byte) *CodeError {
	result, err := schemas[rtype].Validate(gojsonschema.NewBytesLoader(body))
	if err != nil {
		return refuse("schema-invalid", "%s: body cannot be read: %v", rtype, err)
	}
	if result.Valid() {
		return nil
	}

	messages := make([]string, 0, len(result.Errors()))
	for _, e := range result.Errors() {
		messages = append(messages, e.String())
	}
	// The detail goes into the endorsed response: every peer must write the same.
	sort.Strings(messages)
	return refuse("schema-invalid", "%s: %s", rtype, strings.Join(messages, "; "))
}
