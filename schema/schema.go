// Package schema holds the JSON Schema of the lab file, embedded in the binary.
package schema

import _ "embed"

// JSON is lab.schema.json, JSON Schema 2020-12.
//
//go:embed lab.schema.json
var JSON []byte

// URL is the schema's $id.
const URL = "https://netlab.dev/schema/lab.schema.json"
