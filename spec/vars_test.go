package spec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// withEnv makes env the whole process environment for the test.
func withEnv(t *testing.T, env map[string]string) {
	t.Helper()
	saved := lookupEnv
	lookupEnv = func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	}
	t.Cleanup(func() { lookupEnv = saved })
}

// A lab whose one node's image is the value under test.
func imageLab(value string) string {
	return "name: vars\nnodes:\n  h1:\n    image: " + value + "\n"
}

// A lab whose one node's command is the value under test (any text: an
// image must be a valid reference).
func commandLab(value string) string {
	return "name: vars\nnodes:\n  h1:\n    image: busybox\n    command: " + value + "\n"
}

func TestSubstitute(t *testing.T) {
	withEnv(t, map[string]string{"IMG": "busybox", "EMPTY": "", "TAG": "1.36", "REPO": "alpine"})
	cases := []struct{ in, want string }{
		{"$IMG", "busybox"},
		{"${IMG}", "busybox"},
		{"${IMG}:${TAG}", "busybox:1.36"},
		{"$IMG:$TAG", "busybox:1.36"},
		{"x$IMG-y", "xbusybox-y"},
		{"${UNSET:-alpine}", "alpine"},
		{"${EMPTY:-alpine}", "alpine"},
		{"${IMG:-alpine}", "busybox"},
		{"${UNSET-alpine}", "alpine"},
		{"x${EMPTY-alpine}", "x"},
		{"${IMG:?give an image}", "busybox"},
		{"${EMPTY?give an image}x", "x"},
		{"${IMG:+alpine}", "alpine"},
		{"x${EMPTY:+alpine}", "x"},
		{"x${EMPTY+alpine}", "xalpine"},
		{"x${UNSET+alpine}", "x"},
		{"'a$$b'", "a$b"},
		{"a$$IMG", "a$IMG"},
		{"'$${IMG}'", "${IMG}"},
		{"${UNSET:-${REPO}}", "alpine"},
		{"${UNSET:-${ALSO_UNSET:-${REPO}:${TAG}}}", "alpine:1.36"},
		{"${IMG:-${NOT_NEEDED}}", "busybox"}, // a default not used is not looked at
		{"${UNSET:-a}}", "a}"},
		{`"${IMG}"`, "busybox"},
	}
	for _, c := range cases {
		lab, err := Parse([]byte(commandLab(c.in)), "lab.yaml")
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		if got := strings.Join(lab.Nodes["h1"].Command, " "); got != c.want {
			t.Errorf("%s: got %q, want %q", c.in, got, c.want)
		}
	}
}

func TestSubstituteProblems(t *testing.T) {
	withEnv(t, map[string]string{"EMPTY": "", "IMG": "busybox"})
	cases := []struct{ in, want string }{
		{"${FOPNP_CODE}", "lab.yaml:4:12: nodes.h1.image: variable FOPNP_CODE is not set: set it in the environment or in .env beside the lab file, or write ${FOPNP_CODE:-default}"},
		{"$FOPNP_CODE/x", "lab.yaml:4:12: nodes.h1.image: variable FOPNP_CODE is not set: set it in the environment or in .env beside the lab file, or write ${FOPNP_CODE:-default}"},
		{"${UNSET:-${ALSO}}", "lab.yaml:4:12: nodes.h1.image: variable ALSO is not set: set it in the environment or in .env beside the lab file, or write ${ALSO:-default}"},
		{`"${UNSET:?set UNSET to an image name}"`, "lab.yaml:4:12: nodes.h1.image: set UNSET to an image name"},
		{"${EMPTY:?give EMPTY a value}", "lab.yaml:4:12: nodes.h1.image: give EMPTY a value"},
		{"${EMPTY:?}", "lab.yaml:4:12: nodes.h1.image: variable EMPTY is empty: give it a value"},
		{"${UNSET?}", "lab.yaml:4:12: nodes.h1.image: variable UNSET is not set: set it in the environment or in .env beside the lab file, or write ${UNSET:-default}"},
		{"${IMG", `lab.yaml:4:12: nodes.h1.image: unclosed variable reference "${IMG": end it with }, or write $$ for a literal $`},
		{"a${", `lab.yaml:4:12: nodes.h1.image: unclosed variable reference "${": end it with }, or write $$ for a literal $`},
		{"${1X}", `lab.yaml:4:12: nodes.h1.image: invalid variable name "1X" in "${1X}": a name starts with a letter or _ and holds only letters, digits and _`},
		{"${A.B}", `lab.yaml:4:12: nodes.h1.image: invalid variable name "A.B" in "${A.B}": a name starts with a letter or _ and holds only letters, digits and _`},
		{"${}", `lab.yaml:4:12: nodes.h1.image: variable reference "${}" names no variable: write ${NAME}, or $$ for a literal $`},
		{"${IMG:x}", `lab.yaml:4:12: nodes.h1.image: invalid operator ":x" after IMG in "${IMG:x}": use :-, -, :?, ?, :+ or +`},
		{"${IMG:}", `lab.yaml:4:12: nodes.h1.image: invalid operator ":" after IMG in "${IMG:}": use :-, -, :?, ?, :+ or +`},
		{"a$", `lab.yaml:4:12: nodes.h1.image: a lone $ in "a$": write $$ for a literal $, or ${NAME} for a variable`},
		{"$1", `lab.yaml:4:12: nodes.h1.image: a lone $ in "$1": write $$ for a literal $, or ${NAME} for a variable`},
		{"a long value that costs 5$ and more words after it", `lab.yaml:4:12: nodes.h1.image: a lone $ in "...at costs 5$ and more words aft...": write $$ for a literal $, or ${NAME} for a variable`},
		{"a long value with ${UNCLOSED and more words after it", `lab.yaml:4:12: nodes.h1.image: unclosed variable reference "${UNCLOSED and more ...": end it with }, or write $$ for a literal $`},
	}
	for _, c := range cases {
		_, err := Parse([]byte(imageLab(c.in)), "lab.yaml")
		if err == nil {
			t.Errorf("%s: parsed without error", c.in)
			continue
		}
		if got := err.Error(); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.in, got, c.want)
		}
	}
}

// Every unresolved reference is reported at once, each at its scalar.
func TestSubstituteEveryProblem(t *testing.T) {
	withEnv(t, map[string]string{})
	src := `name: vars
defaults: {image: busybox}
nodes:
  h1:
    volumes: ["${FOPNP_CODE}:/fopnp", "${DATA:-/tmp}:/data"]
    env: {A: $A, B: "${B:?set B}"}
`
	_, err := Parse([]byte(src), "lab.yaml")
	want := []string{
		"lab.yaml:5:15: nodes.h1.volumes[0]: variable FOPNP_CODE is not set: set it in the environment or in .env beside the lab file, or write ${FOPNP_CODE:-default}",
		"lab.yaml:6:14: nodes.h1.env.A: variable A is not set: set it in the environment or in .env beside the lab file, or write ${A:-default}",
		"lab.yaml:6:21: nodes.h1.env.B: set B",
	}
	ps := Problems(err)
	if len(ps) != len(want) {
		t.Fatalf("got %d problems, want %d: %v", len(ps), len(want), err)
	}
	for i, p := range ps {
		if p.Error() != want[i] {
			t.Errorf("problem %d:\n got %s\nwant %s", i, p, want[i])
		}
	}
}

// Keys are not substituted; a value under an anchor is, once, where it is
// written.
func TestSubstituteKeysAndAliases(t *testing.T) {
	withEnv(t, map[string]string{"IMG": "busybox"})
	src := `name: vars
nodes:
  h1: &h {image: "${IMG}"}
  h2: *h
  h3: {env: {$KEY: v}}
`
	var root yaml.Node
	if err := yaml.Unmarshal([]byte(src), &root); err != nil {
		t.Fatal(err)
	}
	ps := &problems{file: "lab.yaml"}
	substitute(&root, "lab.yaml", ps)
	if err := ps.err(); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Nodes map[string]struct {
			Image string
			Env   map[string]string
		}
	}
	if err := root.Decode(&got); err != nil {
		t.Fatal(err)
	}
	if got.Nodes["h1"].Image != "busybox" || got.Nodes["h2"].Image != "busybox" {
		t.Errorf("images: %+v", got.Nodes)
	}
	if _, ok := got.Nodes["h3"].Env["$KEY"]; !ok {
		t.Errorf("key was substituted: %v", got.Nodes["h3"].Env)
	}
}

// A plain scalar takes the type of its new value; a quoted one stays a
// string.
func TestSubstituteTypes(t *testing.T) {
	withEnv(t, map[string]string{"MTU": "1400"})
	// (In a flow mapping a plain scalar cannot hold braces: block style.)
	src := "name: vars\ndefaults: {image: busybox}\nnetworks:\n  lan:\n    mtu: MTU\nnodes:\n  h1: {interfaces: {eth0: {network: lan}}}\n"
	lab, err := Parse([]byte(strings.Replace(src, "mtu: MTU", "mtu: ${MTU}", 1)), "lab.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := lab.Networks["lan"].MTU; got != 1400 {
		t.Errorf("mtu = %d, want 1400", got)
	}
	_, err = Parse([]byte(strings.Replace(src, "mtu: MTU", `mtu: "${MTU}"`, 1)), "lab.yaml")
	if err == nil || !strings.Contains(err.Error(), "networks.lan.mtu: must be integer, not string") {
		t.Errorf("quoted mtu: want a type problem, got %v", err)
	}
}

func TestDotEnv(t *testing.T) {
	dir := t.TempDir()
	lab := filepath.Join(dir, "lab.yaml")
	write := func(name, s string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("lab.yaml", "name: vars\nnodes:\n  h1:\n    image: ${IMG}\n    hostname: ${HOST}\n")
	write(".env", "# images\n\nexport IMG=alpine\nHOST=from-dotenv\n")

	withEnv(t, map[string]string{})
	l, err := Load(lab)
	if err != nil {
		t.Fatal(err)
	}
	if l.Nodes["h1"].Image != "alpine" || l.Nodes["h1"].Hostname != "from-dotenv" {
		t.Errorf("from .env: image %q, hostname %q", l.Nodes["h1"].Image, l.Nodes["h1"].Hostname)
	}

	// The environment wins over .env, even when empty.
	withEnv(t, map[string]string{"IMG": "busybox"})
	if l, err = Load(lab); err != nil {
		t.Fatal(err)
	}
	if l.Nodes["h1"].Image != "busybox" || l.Nodes["h1"].Hostname != "from-dotenv" {
		t.Errorf("environment over .env: image %q, hostname %q", l.Nodes["h1"].Image, l.Nodes["h1"].Hostname)
	}

	// A malformed line is a problem in .env, reported with the lab's own.
	write(".env", "IMG=alpine\nHOST from-dotenv\n")
	withEnv(t, map[string]string{})
	_, err = Load(lab)
	want := []string{
		filepath.Join(dir, ".env") + `:2:1: want KEY=VALUE, not "HOST from-dotenv"`,
		lab + ":5:15: nodes.h1.hostname: variable HOST is not set: set it in the environment or in .env beside the lab file, or write ${HOST:-default}",
	}
	ps := Problems(err)
	if len(ps) != len(want) {
		t.Fatalf("got %d problems, want %d: %v", len(ps), len(want), err)
	}
	for i, p := range ps {
		if p.Error() != want[i] {
			t.Errorf("problem %d:\n got %s\nwant %s", i, p, want[i])
		}
	}

	// .env is read only for a lab that uses variables.
	write("plain.yaml", "name: vars\nnodes:\n  h1:\n    image: busybox\n")
	if _, err := Load(filepath.Join(dir, "plain.yaml")); err != nil {
		t.Errorf("a lab without variables failed on a bad .env: %v", err)
	}
}

// The real process environment is the default source.
func TestProcessEnvironment(t *testing.T) {
	t.Setenv("NETLAB_TEST_IMAGE", "busybox")
	lab, err := Parse([]byte(imageLab("${NETLAB_TEST_IMAGE}")), "lab.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if lab.Nodes["h1"].Image != "busybox" {
		t.Errorf("image = %q", lab.Nodes["h1"].Image)
	}
}

func TestParseDotEnv(t *testing.T) {
	src := `# a comment
  
A=plain
export B=exported
C = spaced  
D='single $HOME \n # kept'
E="double\nline \"q\" \\ \t"
F=value # comment
G=value#not-a-comment
H=
I="quoted" # comment
J=a=b
`
	env, problems := parseDotEnv(src, ".env")
	for _, p := range problems {
		t.Errorf("%v", p)
	}
	want := map[string]string{
		"A": "plain",
		"B": "exported",
		"C": "spaced",
		"D": `single $HOME \n # kept`,
		"E": "double\nline \"q\" \\ \t",
		"F": "value",
		"G": "value#not-a-comment",
		"H": "",
		"I": "quoted",
		"J": "a=b",
	}
	for k, w := range want {
		if got, ok := env[k]; !ok || got != w {
			t.Errorf("%s = %q (set %v), want %q", k, got, ok, w)
		}
	}
	if len(env) != len(want) {
		t.Errorf("got %d variables, want %d: %v", len(env), len(want), env)
	}
}

func TestParseDotEnvProblems(t *testing.T) {
	cases := []struct{ in, want string }{
		{"JUST_A_NAME", `.env:1:1: want KEY=VALUE, not "JUST_A_NAME"`},
		{"1A=x", `.env:1:1: invalid variable name "1A": a name starts with a letter or _ and holds only letters, digits and _`},
		{"=x", `.env:1:1: invalid variable name "": a name starts with a letter or _ and holds only letters, digits and _`},
		{"A='open", `.env:1:1: A: unclosed ' quote: end the value with '`},
		{`A="open`, `.env:1:1: A: unclosed " quote: end the value with "`},
		{`A="x" y`, `.env:1:1: A: unexpected "y" after the quoted value: put a comment after #`},
		{"OK=1\n\nB C=x", `.env:3:1: invalid variable name "B C": a name starts with a letter or _ and holds only letters, digits and _`},
	}
	for _, c := range cases {
		_, problems := parseDotEnv(c.in, ".env")
		if len(problems) != 1 {
			t.Errorf("%q: got %d problems, want 1: %v", c.in, len(problems), problems)
			continue
		}
		if got := problems[0].Error(); got != c.want {
			t.Errorf("%q:\n got %s\nwant %s", c.in, got, c.want)
		}
	}
}
