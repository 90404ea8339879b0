//go:build noserve

package store

import "errors"

// BuiltIn says that this netlab, built with -tags noserve (make fopnp:
// the playground's netlab, without SQLite's compile), has no class server
// database, and how to build one that has.
func BuiltIn() error {
	return errors.New("this netlab was built without the class server and its database (make fopnp builds the playground's netlab so, in a third of the time): run make build for the whole netlab")
}
