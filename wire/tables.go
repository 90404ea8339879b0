package wire

import (
	"fmt"

	"github.com/google/nftables"
)

// Removing the nftables tables of a node that the lab file no longer asks for.

// DropTables deletes the inet tables named in unwanted from a namespace.
func DropTables(ns *NS, unwanted map[string]string) ([]string, error) {
	if len(unwanted) == 0 {
		return nil, nil
	}
	c, err := nftables.New(nftables.WithNetNSFd(ns.FD()))
	if err != nil {
		return nil, fmt.Errorf("nftables: %w", err)
	}
	defer c.CloseLasting()
	tables, err := c.ListTablesOfFamily(nftables.TableFamilyINet)
	if err != nil {
		return nil, fmt.Errorf("list nftables tables: %w", err)
	}
	var what []string
	for _, t := range tables {
		if desc, ok := unwanted[t.Name]; ok {
			c.DelTable(t)
			what = append(what, desc+" inet "+t.Name)
		}
	}
	if len(what) == 0 {
		return nil, nil
	}
	if err := c.Flush(); err != nil {
		return nil, fmt.Errorf("delete nftables tables: %w", err)
	}
	return what, nil
}
