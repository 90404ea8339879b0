// Package web is the class server's front end: plain JavaScript and CSS
// in src/, bundled by esbuild (with xterm.js from npm, pinned by
// package-lock.json) into dist/, which is committed and embedded here.
// make web rebuilds dist/; a test fails when dist/ is stale against src/.
package web

import (
	"embed"
	"io/fs"
)

//go:embed dist
var dist embed.FS

// Files are the bundle's files: index.html, app.js, app.css.
func Files() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // dist is embedded: it exists
	}
	return sub
}
