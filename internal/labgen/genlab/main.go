// Command genlab writes a generated lab file (a chain or a star of N
// nodes) to standard output, for measuring netlab validate, plan and graph
// on big labs:
//
//	go run ./internal/labgen/genlab -topology chain -nodes 100000 > /tmp/chain.yaml
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/netlab/netlab/internal/labgen"
)

func main() {
	topology := flag.String("topology", "chain", "chain or star")
	nodes := flag.Int("nodes", 1000, "number of nodes")
	flag.Parse()
	if *nodes < 1 {
		fmt.Fprintln(os.Stderr, "genlab: -nodes must be at least 1")
		os.Exit(2)
	}
	var data []byte
	switch *topology {
	case "chain":
		data = labgen.Chain(*nodes)
	case "star":
		data = labgen.Star(*nodes)
	default:
		fmt.Fprintf(os.Stderr, "genlab: unknown topology %q (known: chain, star)\n", *topology)
		os.Exit(2)
	}
	if _, err := os.Stdout.Write(data); err != nil {
		fmt.Fprintln(os.Stderr, "genlab:", err)
		os.Exit(1)
	}
}
