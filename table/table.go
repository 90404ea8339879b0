// Package table draws the tables netlab prints for people (status, plans,
// checks, the looking glass, doctor): box-drawing lines, the header in
// upper case and centred, cells left-aligned, a cell of several lines
// taking as many lines of its row.
package table

import (
	"io"
	"strings"
	"unicode/utf8"
)

// Table is a table being filled; Render draws it.
type Table struct {
	w      io.Writer
	header []string
	rows   [][][]string // row, column, line
}

// New is an empty table that Render writes to w.
func New(w io.Writer) *Table { return &Table{w: w} }

// Header names the columns (drawn upper case, "_" as a space).
func (t *Table) Header(cols ...string) {
	t.header = make([]string, len(cols))
	for i, c := range cols {
		t.header[i] = strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(c), "_", " "))
	}
}

// Append adds a row: a cell's lines are its text's, trimmed, blank ones
// left out (a tab is four spaces).
func (t *Table) Append(cells ...string) {
	row := make([][]string, len(cells))
	for i, c := range cells {
		for _, l := range strings.Split(strings.ReplaceAll(c, "\t", "    "), "\n") {
			if l = strings.TrimSpace(l); l != "" {
				row[i] = append(row[i], l)
			}
		}
	}
	t.rows = append(t.rows, row)
}

// Render writes the table.
func (t *Table) Render() error {
	n := len(t.header)
	for _, r := range t.rows {
		n = max(n, len(r))
	}
	if n == 0 {
		return nil
	}
	width := make([]int, n)
	for i, h := range t.header {
		width[i] = utf8.RuneCountInString(h)
	}
	for _, r := range t.rows {
		for i, c := range r {
			for _, l := range c {
				width[i] = max(width[i], utf8.RuneCountInString(l))
			}
		}
	}
	var b strings.Builder
	rule := func(left, mid, right string) {
		b.WriteString(left)
		for i, w := range width {
			if i > 0 {
				b.WriteString(mid)
			}
			b.WriteString(strings.Repeat("─", w+2))
		}
		b.WriteString(right + "\n")
	}
	line := func(cells []string, centre bool) {
		for i, w := range width {
			c := ""
			if i < len(cells) {
				c = cells[i]
			}
			pad := w - utf8.RuneCountInString(c)
			left := 0
			if centre {
				left = pad / 2
			}
			b.WriteString("│ " + strings.Repeat(" ", left) + c + strings.Repeat(" ", pad-left) + " ")
		}
		b.WriteString("│\n")
	}
	rule("┌", "┬", "┐")
	if t.header != nil {
		line(t.header, true)
		if len(t.rows) > 0 {
			rule("├", "┼", "┤")
		}
	}
	for _, r := range t.rows {
		lines := 1
		for _, c := range r {
			lines = max(lines, len(c))
		}
		for k := 0; k < lines; k++ {
			cells := make([]string, len(r))
			for i, c := range r {
				if k < len(c) {
					cells[i] = c[k]
				}
			}
			line(cells, false)
		}
	}
	rule("└", "┴", "┘")
	_, err := io.WriteString(t.w, b.String())
	return err
}
