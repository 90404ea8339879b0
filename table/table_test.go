package table

import (
	"bytes"
	"testing"
)

func render(header []string, rows ...[]string) string {
	var b bytes.Buffer
	t := New(&b)
	if header != nil {
		t.Header(header...)
	}
	for _, r := range rows {
		t.Append(r...)
	}
	t.Render()
	return b.String()
}

// The drawings below are what the table library netlab used before drew
// for the same input: the same look for the same tables.
func TestRender(t *testing.T) {
	for _, c := range []struct {
		header []string
		rows   [][]string
		want   string
	}{{
		[]string{"Node", "State", "Interfaces"},
		[][]string{{"a", "running", "eth0 10.1.1.1/32\neth1 x"}, {"bb", "", ""}},
		`┌──────┬─────────┬──────────────────┐
│ NODE │  STATE  │    INTERFACES    │
├──────┼─────────┼──────────────────┤
│ a    │ running │ eth0 10.1.1.1/32 │
│      │         │ eth1 x           │
│ bb   │         │                  │
└──────┴─────────┴──────────────────┘
`}, {
		[]string{"#", "What it teaches", "Nodes", ""},
		[][]string{{"1", "  lead", "x", "*"}, {"22", "tail  ", "ünï", "é"}},
		`┌────┬─────────────────┬───────┬───┐
│ #  │ WHAT IT TEACHES │ NODES │   │
├────┼─────────────────┼───────┼───┤
│ 1  │ lead            │ x     │ * │
│ 22 │ tail            │ ünï   │ é │
└────┴─────────────────┴───────┴───┘
`}, {
		[]string{"A", "B"}, nil,
		`┌───┬───┐
│ A │ B │
└───┴───┘
`}, {
		[]string{"Abc", "Longheader"},
		[][]string{{"abcdef", "1"}, {"12", "12345678901"}},
		`┌────────┬─────────────┐
│  ABC   │ LONGHEADER  │
├────────┼─────────────┤
│ abcdef │ 1           │
│ 12     │ 12345678901 │
└────────┴─────────────┘
`}, {
		[]string{"X"},
		[][]string{{"a\n\nb"}, {"tab\there"}},
		`┌─────────────┐
│      X      │
├─────────────┤
│ a           │
│ b           │
│ tab    here │
└─────────────┘
`}} {
		if got := render(c.header, c.rows...); got != c.want {
			t.Errorf("%q %q:\ngot\n%s\nwant\n%s", c.header, c.rows, got, c.want)
		}
	}
	if got := render(nil); got != "" {
		t.Errorf("an empty table drew %q", got)
	}
}
