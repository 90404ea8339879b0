//go:build !noserve

package store

import _ "modernc.org/sqlite" // the database/sql driver "sqlite"

// BuiltIn is nil: this netlab has the class server's database.
func BuiltIn() error { return nil }
