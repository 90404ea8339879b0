// Command netlab builds network labs out of containers from a YAML file.
package main

import (
	_ "github.com/netlab/netlab/internal/startheap" // first: before the heavy packages' inits

	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/netlab/netlab/engine/kube/agent"
	"github.com/netlab/netlab/hostproc"
	"github.com/netlab/netlab/lab"
	"github.com/netlab/netlab/nodeinit"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

// Exit codes that scripts can rely on.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2 // bad usage or an invalid lab file
)

// exitError carries the exit code of a failed command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageError(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

func main() {
	// A node's init where netlab-init was not beside netlab (nodeinit.Run
	// passes signals on to the node's command).
	if len(os.Args) > 1 && os.Args[1] == "_init" {
		os.Exit(nodeinit.Run(os.Args[2:], os.Stderr))
	}
	// What netlab starts (watcher, forwarders, relays) outlives this
	// command: it must not keep what it inherited open, such as a lock.
	hostproc.CloseOnExec()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	var code int
	switch {
	case len(os.Args) > 1 && hostproc.Is(os.Args[1]): // _forward, _relay, _dhcpd
		code = hostproc.Main(ctx, os.Args[1], os.Args[2:], os.Stderr)
	case len(os.Args) > 1 && os.Args[1] == "_watch":
		code = exitCode(lab.RunWatcher(ctx, os.Args[2:]), os.Stderr)
	case len(os.Args) > 1 && os.Args[1] == "_agent": // a cluster host's agent: engine/kube/agent
		code = agent.Main(ctx, os.Args[2:], os.Stdin, os.Stdout, os.Stderr)
	case len(os.Args) > 1 && os.Args[1] == "_dhcpc":
		code = nodeinit.RunDHCPClient(ctx, os.Args[2:], os.Stderr)
	default:
		code = run(ctx, os.Args, os.Stdout, os.Stderr)
	}
	stop()
	os.Exit(code)
}

// run executes the command line and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	notFound := false
	app := newApp(stdout, stderr)
	app.CommandNotFound = func(c *cli.Context, name string) {
		fmt.Fprintf(stderr, "netlab: unknown command %q; see netlab --help\n", name)
		notFound = true
	}
	err := app.RunContext(ctx, interspersed(app, args))
	if notFound {
		return exitUsage
	}
	return exitCode(err, stderr)
}

// exitCode prints a command's error and maps it to an exit code.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	var ee *exitError
	code := exitFailure
	if errors.As(err, &ee) {
		code = ee.code
	}
	if lab.IsUsage(err) {
		code = exitUsage
	}
	if msg := err.Error(); msg != "" { // "" when the command has said it all
		fmt.Fprintln(stderr, msg)
	}
	return code
}

func newApp(stdout, stderr io.Writer) *cli.App {
	onUsageError := func(c *cli.Context, err error, _ bool) error {
		return &exitError{code: exitUsage, err: fmt.Errorf("%w; see netlab %s --help", err, c.Command.Name)}
	}
	app := &cli.App{
		Name:            "netlab",
		Version:         version,
		Writer:          stdout,
		ErrWriter:       stderr,
		HideHelpCommand: true,
		OnUsageError:    onUsageError,
		Commands: slices.Concat(fileCommands(), lifecycleCommands(), gradingCommands(), nodeCommands(), hostCommands(),
			[]*cli.Command{completionCommand(), serveCommand(), classCommand()}),
		EnableBashCompletion: true,
	}
	describe(app) // their help, and their order in netlab --help
	for _, c := range app.Commands {
		c.OnUsageError = onUsageError
		c.HideHelpCommand = true
	}
	return app
}

// interspersed lets flags follow arguments ("netlab graph lab.yaml -o x.svg"),
// which urfave/cli v2 does not: it moves a command's flags, with their
// values, ahead of its arguments. Everything after "--" stays as it is.
func interspersed(app *cli.App, args []string) []string {
	if len(args) < 2 || args[len(args)-1] == "--generate-bash-completion" {
		return args // a shell asking for completions: the flag must stay last
	}
	cmd := app.Command(args[1])
	if cmd == nil {
		return args
	}
	if len(args) > 2 && cmd.Command(args[2]) != nil { // a subcommand: netlab new internet
		sub := interspersed(&cli.App{Commands: cmd.Subcommands}, args[1:])
		return append([]string{args[0]}, sub...)
	}
	takesValue := map[string]bool{}
	for _, f := range cmd.Flags {
		_, isBool := f.(*cli.BoolFlag)
		for _, name := range f.Names() {
			takesValue[name] = !isBool
		}
	}
	var flags, rest []string
	tail := args[2:]
	for i := 0; i < len(tail); i++ {
		a := tail[i]
		if a == "--" {
			rest = append(rest, tail[i:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			rest = append(rest, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if !strings.Contains(name, "=") && takesValue[name] && i+1 < len(tail) {
			flags = append(flags, tail[i+1])
			i++
		}
	}
	out := append([]string{args[0], args[1]}, flags...)
	return append(out, rest...)
}
