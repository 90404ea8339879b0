package convert

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/netlab/netlab/internet"
	"github.com/netlab/netlab/spec"
)

// ETH Zürich's mini-Internet describes a class's Internet in a config
// directory: AS_config.txt lists the ASes and IXPs and, for each AS, the
// files of its routers, internal links, switches, hosts and switch links;
// aslevel_links.txt the links between ASes and to IXPs. MiniInternet reads
// them into an internet.Internet, addressed as its subnet_config.sh does.

// MaxMiniInternetFileBytes is the largest mini-Internet file read.
const MaxMiniInternetFileBytes = 4 << 20

// MiniInternetOptions change how a mini-Internet is read.
type MiniInternetOptions struct {
	// ConfigureAll configures the NoConfig ASes too (OSPF, BGP, gateways),
	// as if they were Config ASes.
	ConfigureAll bool
}

// IsMiniInternet tells whether dir is a mini-Internet config directory
// (it holds AS_config.txt and aslevel_links.txt).
func IsMiniInternet(dir string) bool {
	for _, f := range []string{"AS_config.txt", "aslevel_links.txt"} {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil || !st.Mode().IsRegular() {
			return false
		}
	}
	return true
}

// MiniInternet reads the mini-Internet config directory dir and returns
// an equivalent netlab lab file, and notes on what was not carried over.
func MiniInternet(dir string) ([]byte, []Note, error) {
	return MiniInternetWith(dir, MiniInternetOptions{})
}

// MiniInternetWith is MiniInternet with options.
func MiniInternetWith(dir string, o MiniInternetOptions) ([]byte, []Note, error) {
	r := &miniReader{dir: dir, opts: o, parsed: map[string][]miniLine{}, noted: map[string]bool{}}
	in := r.read()
	if len(r.errs) > 0 {
		return nil, r.notes, &Error{Notes: r.errs}
	}
	out, err := internet.Lab(in)
	if err != nil {
		return nil, r.notes, fmt.Errorf("write the lab of mini-Internet %s: %w", dir, err)
	}
	return out, r.notes, nil
}

type miniLine struct {
	n      int // line number
	fields []string
}

type miniReader struct {
	dir    string
	opts   MiniInternetOptions
	notes  []Note
	errs   []Note
	parsed map[string][]miniLine
	noted  map[string]bool // notes given once
}

func (r *miniReader) file(name string) string { return filepath.Join(r.dir, name) }

func (r *miniReader) fail(file string, line int, format string, args ...any) {
	r.errs = append(r.errs, Note{r.file(file), line, fmt.Sprintf(format, args...)})
}

func (r *miniReader) note(file string, line int, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if r.noted[file+"\x00"+msg] {
		return
	}
	r.noted[file+"\x00"+msg] = true
	r.notes = append(r.notes, Note{r.file(file), line, msg})
}

// lines reads a file's non-empty lines as whitespace-separated fields, and
// checks each has at least min and at most max fields.
func (r *miniReader) lines(name string, min, max int, what string) []miniLine {
	if l, ok := r.parsed[name]; ok {
		return l
	}
	r.parsed[name] = nil
	data, err := spec.ReadLabFile(r.dir, name, MaxMiniInternetFileBytes)
	if err != nil {
		r.fail(name, 0, "cannot read it: %v", err)
		return nil
	}
	var out []miniLine
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		if len(f) < min || len(f) > max {
			r.fail(name, n, "%d columns; a line of %s has %s", len(f), name, what)
			continue
		}
		out = append(out, miniLine{n, f})
	}
	if err := sc.Err(); err != nil {
		r.fail(name, 0, "cannot read it: %v (a line is at most 64 KiB)", err)
	}
	r.parsed[name] = out
	return out
}

// miniAS is an AS_config.txt line while it is read.
type miniAS struct {
	line  int
	as    *internet.AS
	ixp   *internet.IXP
	files [5]string // routers, internal links, switches, hosts, switch links
}

func (r *miniReader) read() *internet.Internet {
	in := &internet.Internet{Name: "mini-internet", Header: []string{
		"ETH Zürich's mini-Internet, converted by netlab from " + filepath.Base(r.dir) + "/ (AS_config.txt, aslevel_links.txt and the files they name).",
		"Addresses follow its subnet_config.sh: AS N announces N.0.0.0/8, router i's loopback is N.(151+i).0.1,",
		"its host's subnet N.(101+i).0.0/24, the k-th internal link N.0.k.0/24, switched networks N.(200+n).VLAN.0/24,",
		"IXP X's network 180.X.0.0/24 with its route server at 180.X.0.X.",
	}}
	const asConf = "AS_config.txt"
	byNum := map[int]*miniAS{}
	var order []*miniAS
	for _, l := range r.lines(asConf, 3, 8, "NUMBER AS|IXP Config|NoConfig ROUTERS LINKS SWITCHES HOSTS SWITCH_LINKS") {
		n, err := strconv.Atoi(l.fields[0])
		if err != nil {
			r.fail(asConf, l.n, "%q is not an AS number", l.fields[0])
			continue
		}
		if byNum[n] != nil {
			r.fail(asConf, l.n, "AS %d is given twice (first on line %d)", n, byNum[n].line)
			continue
		}
		configured := false
		switch l.fields[2] {
		case "Config":
			configured = true
		case "NoConfig":
			configured = r.opts.ConfigureAll
		default:
			r.fail(asConf, l.n, "%q is neither Config nor NoConfig", l.fields[2])
			continue
		}
		m := &miniAS{line: l.n}
		switch l.fields[1] {
		case "IXP":
			if msg := internet.CheckIXP(n); msg != "" {
				r.fail(asConf, l.n, "%s", msg)
				continue
			}
			m.ixp = &internet.IXP{Number: n, Configured: true}
			in.IXPs = append(in.IXPs, m.ixp)
		case "AS":
			if msg := internet.CheckAS(n); msg != "" {
				r.fail(asConf, l.n, "%s", msg)
				continue
			}
			if len(l.fields) != 8 {
				r.fail(asConf, l.n, "an AS line names 5 files: routers, internal links, switches, hosts, switch links")
				continue
			}
			copy(m.files[:], l.fields[3:])
			m.as = &internet.AS{Number: n, Configured: configured}
			if !configured {
				m.as.Comment = fmt.Sprintf("AS %d (NoConfig): interfaces and addresses only, for students to configure", n)
			}
			in.ASes = append(in.ASes, m.as)
		default:
			r.fail(asConf, l.n, "%q is neither AS nor IXP", l.fields[1])
			continue
		}
		byNum[n] = m
		order = append(order, m)
	}
	if len(order) == 0 && len(r.errs) == 0 {
		r.fail(asConf, 0, "no AS: a line is NUMBER AS Config ROUTERS LINKS SWITCHES HOSTS SWITCH_LINKS")
	}
	for _, m := range order {
		if m.as != nil {
			r.as(m)
		}
	}
	r.aslevel(in, byNum)
	return in
}
