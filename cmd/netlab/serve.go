package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/netlab/netlab/lab"
	"github.com/netlab/netlab/serve"
	"github.com/netlab/netlab/serve/store"
)

const defaultData = "/var/lib/netlab/serve"

var dataFlag = &cli.StringFlag{Name: "data", Value: defaultData, Usage: "the server's data directory: database, class lab files, certificate"}

var urlFlag = &cli.StringFlag{Name: "url", Value: "http://127.0.0.1:8080", Usage: "the server's address as students reach it, for login links"}

func serveCommand() *cli.Command {
	return &cli.Command{
		Name:  "serve",
		Usage: "run the class server: students' labs and the teacher's results in the browser",
		Description: "Serves the class's labs over HTTP(S): students log in and get their labs (start,\n" +
			"stop, reset, stage, live topology, terminals, checks, packet view); teachers see\n" +
			"the class grid. State lives in DIR/serve.db (--data). Beyond loopback it speaks\n" +
			"HTTPS with --tls-cert/--tls-key, or a certificate it makes on first start in DIR/tls.\n" +
			"It needs root (it brings labs up). Labs keep running while it restarts.\n\n" +
			"First: netlab serve user add NAME --role teacher (prints an initial password).\n" +
			"As a service: copy docs/netlab-serve.service to /etc/systemd/system/, then\n" +
			"  systemctl daemon-reload && systemctl enable --now netlab-serve\n" +
			"(journalctl -u netlab-serve shows its log). docs/serve.md documents the HTTP API.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "listen", Value: "127.0.0.1:8080", Usage: "address and port to listen on"},
			dataFlag,
			&cli.StringFlag{Name: "tls-cert", Usage: "TLS certificate (PEM) to serve HTTPS with"},
			&cli.StringFlag{Name: "tls-key", Usage: "the certificate's key (PEM)"},
			&cli.StringFlag{Name: "runtime", Usage: "run the labs' nodes on docker or runc (default: each lab file's, else docker)"},
			&cli.StringFlag{Name: "url", Usage: "the server's address as students reach it, for login links (default: as each request came)"},
		},
		Subcommands: []*cli.Command{{
			Name: "user", Usage: "manage the server's users", HideHelpCommand: true,
			Subcommands: []*cli.Command{userAddCommand()},
		}},
		Action: func(c *cli.Context) error {
			cfg := serve.Config{Listen: c.String("listen"), DataDir: c.String("data"), TLSCert: c.String("tls-cert"),
				TLSKey: c.String("tls-key"), Runtime: c.String("runtime"), BaseURL: c.String("url"),
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
		Name:      "add",
		Usage:     "add a user and print their initial password (or, with --link, a one-time login link)",
		ArgsUsage: "NAME",
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
	st, err := store.Open(ctx, c.String("data"))
	if err != nil {
		return err
	}
	defer st.Close()
	u, password, err := serve.AddUser(ctx, st, name, c.String("role"), c.String("email"))
	if err != nil {
		return serveError(err)
	}
	if !c.Bool("link") {
		fmt.Fprintf(stdout, "added %s %s; initial password: %s\n", u.Role, u.Name, password)
		return nil
	}
	link, err := serve.NewLoginLink(ctx, st, u, c.String("url"))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "added %s %s; one-time login link (valid %s): %s\n", u.Role, u.Name, serve.LoginTokenLife, link)
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
		Usage:           "manage the class server's classes",
		HideHelpCommand: true,
		Subcommands: []*cli.Command{{
			Name:      "create",
			Usage:     "make a class: a lab per student (or group) and each student's one-time login link",
			ArgsUsage: "NAME",
			Description: "The roster is CSV with a header row: name, and optionally group and email.\n" +
				"--lab is a bundled lab (netlab labs) or a lab file; each lab is a copy of it,\n" +
				"named CLASS-STUDENT-ID, under --data. A lab that asks for access to the host\n" +
				"(netlab diff shows what) is refused unless you pass --allow-host.",
			Flags: append([]cli.Flag{
				&cli.StringFlag{Name: "lab", Required: true, Usage: "a bundled lab's name or a lab file"},
				&cli.StringFlag{Name: "roster", Required: true, Usage: "CSV file: name[,group][,email]"},
				&cli.StringFlag{Name: "per", Value: "student", Usage: "a lab per student or per group"},
				&cli.BoolFlag{Name: "allow-host", Usage: "allow what the lab asks of the host (students never can)"},
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
	f, err := os.Open(c.String("roster"))
	if err != nil {
		return usageError("roster: %v", err)
	}
	defer f.Close()
	roster, err := serve.ParseRoster(f)
	if err != nil {
		return serveError(err)
	}
	st, err := store.Open(ctx, c.String("data"))
	if err != nil {
		return err
	}
	defer st.Close()
	req := serve.ClassRequest{Name: name, Lab: c.String("lab"), Roster: roster, PerGroup: c.String("per") == "group", AllowHost: c.Bool("allow-host"),
		Limits: limitsFrom(c)}
	class, logins, err := serve.CreateClass(ctx, st, c.String("data"), req)
	if err != nil {
		return serveError(err)
	}
	fmt.Fprintf(stdout, "class %s: %d students, a lab per %s of %s; one-time login links (valid %s):\n",
		class.Name, len(logins), class.Per, class.Source, serve.LoginTokenLife)
	for _, l := range logins {
		fmt.Fprintf(stdout, "%s\t%s\t%s\n", l.Name, l.Lab, serve.LoginLink(c.String("url"), l.Token))
	}
	return nil
}
