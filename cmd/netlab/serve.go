//go:build !noserve

package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"

	"github.com/urfave/cli/v2"

	"github.com/netlab/netlab/lab"
	"github.com/netlab/netlab/serve"
	"github.com/netlab/netlab/serve/store"
)

var dataFlag = &cli.StringFlag{Name: "data", Value: "/var/lib/netlab/serve", Usage: "the server's data directory: database, class lab files, certificate"}

var urlFlag = &cli.StringFlag{Name: "url", Value: "http://127.0.0.1:8080", Usage: "the server's address as students reach it, for login links"}

func serveCommand() *cli.Command {
	return &cli.Command{
		Name: "serve",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "listen", Value: "127.0.0.1:8080", Usage: "address and port to listen on"},
			dataFlag,
			&cli.StringFlag{Name: "tls-cert", Usage: "TLS certificate (PEM) to serve HTTPS with"},
			&cli.StringFlag{Name: "tls-key", Usage: "the certificate's key (PEM)"},
			&cli.StringFlag{Name: "runtime", Usage: "run the labs' nodes on docker or runc (default: each lab file's, else docker)"},
			&cli.StringFlag{Name: "url", Usage: "the server's address as students reach it, for login links (default: as each request came)"},
			&cli.IntFlag{Name: "max-starts", Usage: "labs brought up at once; more starts wait their turn (0: no limit)"},
		},
		Subcommands: []*cli.Command{{
			Name: "user", HideHelpCommand: true,
			Subcommands: []*cli.Command{userAddCommand()},
		}},
		Action: func(c *cli.Context) error {
			cfg := serve.Config{Listen: c.String("listen"), DataDir: c.String("data"), TLSCert: c.String("tls-cert"),
				TLSKey: c.String("tls-key"), Runtime: c.String("runtime"), BaseURL: c.String("url"), MaxStarts: c.Int("max-starts"),
				Log: slog.New(slog.NewTextHandler(c.App.ErrWriter, nil))}
			if os.Geteuid() != 0 {
				return fmt.Errorf("netlab serve needs root: it brings labs up (namespaces, interfaces, firewall); run it with sudo or as the systemd unit docs/netlab-serve.service")
			}
			return withLabs(c.Context, "", func(m *lab.Manager) error { return serve.Run(c.Context, cfg, m) })
		},
	}
}

func userAddCommand() *cli.Command {
	return &cli.Command{
		Name: "add",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "role", Value: "student", Usage: "teacher or student"},
			&cli.StringFlag{Name: "email", Usage: "the user's e-mail address"},
			&cli.BoolFlag{Name: "link", Usage: "print a one-time login link instead of a password"},
			dataFlag, urlFlag,
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageError("netlab serve user add takes one user name; see netlab serve user add --help")
			}
			return runUserAdd(c.Context, c.Args().First(), c, c.App.Writer)
		},
	}
}

func runUserAdd(ctx context.Context, name string, c *cli.Context, stdout io.Writer) error {
	u, err := serve.AddUserIn(ctx, c.String("data"), name, c.String("role"), c.String("email"), c.Bool("link"), c.String("url"))
	if err != nil {
		return serveError(err)
	}
	how := "initial password: " + u.Password
	if u.Link != "" {
		how = fmt.Sprintf("one-time login link (valid %s): %s", serve.LoginTokenLife, u.Link)
	}
	fmt.Fprintf(stdout, "added %s %s; %s\n", u.Role, u.Name, how)
	return nil
}

// serveError maps the server's usage errors to exit code 2.
func serveError(err error) error {
	if serve.IsUsage(err) {
		return &exitError{code: exitUsage, err: err}
	}
	return err
}

func classCommand() *cli.Command {
	return &cli.Command{
		Name:            "class",
		HideHelpCommand: true,
		Subcommands: []*cli.Command{{
			Name: "create",
			Flags: append([]cli.Flag{
				&cli.StringFlag{Name: "lab", Required: true, Usage: "a bundled lab's name or a lab file"},
				&cli.StringFlag{Name: "roster", Required: true, Usage: "CSV file: name[,group][,email]"},
				&cli.StringFlag{Name: "per", Value: "student", Usage: "a lab per student or per group"},
				&cli.BoolFlag{Name: "allow-host", Usage: "allow what the lab asks of the host (students never can)"},
				&cli.BoolFlag{Name: "shared", Usage: "one lab shared by the class; each roster group reaches its own nodes"},
				dataFlag, urlFlag,
			}, limitFlags()...),
			Action: func(c *cli.Context) error {
				if c.NArg() != 1 {
					return usageError("netlab class create takes one class name; see netlab class create --help")
				}
				return runClassCreate(c.Context, c.Args().First(), c, c.App.Writer)
			},
		}, classLimitsCommand()},
	}
}

func runClassCreate(ctx context.Context, name string, c *cli.Context, stdout io.Writer) error {
	if per := c.String("per"); per != "student" && per != "group" {
		return usageError("--per %s: a lab per student or per group", per)
	}
	req := serve.ClassRequest{Name: name, Lab: c.String("lab"), PerGroup: c.String("per") == "group", AllowHost: c.Bool("allow-host"), Shared: c.Bool("shared"),
		Limits: limitsFrom(c)}
	class, logins, err := serve.CreateClassIn(ctx, c.String("data"), c.String("roster"), req)
	if err != nil {
		return serveError(err)
	}
	per := "a lab per " + class.Per
	if class.Shared {
		per = "one lab shared by its groups"
	}
	fmt.Fprintf(stdout, "class %s: %d students, %s, of %s; one-time login links (valid %s):\n",
		class.Name, len(logins), per, class.Source, serve.LoginTokenLife)
	for _, l := range logins {
		fmt.Fprintf(stdout, "%s\t%s\t%s\n", l.Name, l.Lab, serve.LoginLink(c.String("url"), l.Token))
	}
	return nil
}

// limitFlags are a class's limits as flags of class create and class
// limits.
func limitFlags() []cli.Flag {
	return []cli.Flag{
		&cli.IntFlag{Name: "max-labs", Usage: "labs a student runs at once, over all their classes (0: no limit)"},
		&cli.IntFlag{Name: "max-nodes", Usage: "nodes a student runs at once, over their labs (0: no limit)"},
		&cli.IntFlag{Name: "max-lab-nodes", Usage: "nodes a lab of the class may have: a bigger lab file is refused (0: no limit)"},
		&cli.Float64Flag{Name: "node-cpus", Usage: "CPU time of each node of the class's labs, in CPUs: 0.5 (0: no limit)"},
		&cli.StringFlag{Name: "node-memory", Usage: "memory of each node of the class's labs: 256MiB"},
		&cli.Int64Flag{Name: "node-pids", Usage: "processes of each node of the class's labs (0: no limit)"},
	}
}

func limitsFrom(c *cli.Context) store.Limits {
	return store.Limits{Labs: c.Int("max-labs"), Nodes: c.Int("max-nodes"), LabNodes: c.Int("max-lab-nodes"), CPUs: c.Float64("node-cpus"),
		Memory: c.String("node-memory"), Pids: c.Int64("node-pids")}
}

func classLimitsCommand() *cli.Command {
	return &cli.Command{
		Name:  "limits",
		Flags: append(limitFlags(), dataFlag),
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageError("netlab class limits takes one class name; see netlab class limits --help")
			}
			return runClassLimits(c.Context, c.Args().First(), c, c.App.Writer)
		},
	}
}

func runClassLimits(ctx context.Context, name string, c *cli.Context, stdout io.Writer) error {
	var set *store.Limits
	if l := limitsFrom(c); slices.ContainsFunc([]string{"max-labs", "max-nodes", "max-lab-nodes", "node-cpus", "node-memory", "node-pids"}, c.IsSet) {
		set = &l
	}
	l, err := serve.ClassLimitsIn(ctx, c.String("data"), name, set)
	if err != nil {
		return serveError(err)
	}
	fmt.Fprintf(stdout, "class %s: labs %s, nodes %s per student; nodes %s per lab; each node: cpus %s, memory %s, pids %s\n", name,
		orAny(l.Labs), orAny(l.Nodes), orAny(l.LabNodes), orAny(l.CPUs), orAny(l.Memory), orAny(l.Pids))
	return nil
}

func orAny[T comparable](v T) string {
	if v == *new(T) {
		return "any"
	}
	return fmt.Sprint(v)
}
