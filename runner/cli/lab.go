package cli

import (
	"errors"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/statectl/statectl/runner/lab"
	"github.com/statectl/statectl/runner/report"
)

// labCmd is `statectl lab up|down|status`.
func (a *app) labCmd(args []string) error {
	if len(args) != 1 {
		return usageError("usage: statectl lab up|down|status [--dir DIR] [--members N] [--prefix 127.0.0]", "lab needs one of up, down, status")
	}
	dir := a.opts.labDir
	switch args[0] {
	case "up":
		if a.opts.labMembers < 1 {
			return usageError("pass --members N with N from 1 to 200", "invalid --members %d", a.opts.labMembers)
		}
		if err := lab.Available(); err != nil {
			return &cliError{code: report.ExitError, err: err}
		}
		l, err := lab.UpWith(a.ctx, dir, lab.Options{Members: a.opts.labMembers, Prefix: a.opts.labPrefix, Log: a.stderr})
		if err != nil {
			hint := fmt.Sprintf("'statectl lab status --dir %s' shows what runs; 'statectl lab down --dir %s' cleans up", dir, dir)
			if errors.Is(err, lab.ErrAddressInUse) {
				hint = fmt.Sprintf("another lab or daemon listens there: stop it, or pass --prefix 127.0.1 to use other loopback addresses; %s", hint)
			}
			return &cliError{code: report.ExitError, err: err, hint: hint}
		}
		fmt.Fprintf(a.stdout, "lab up in %s: %d members\n", l.Dir, len(l.Members))
		fmt.Fprintf(a.stdout, "next: statectl apply 'node*' --roster %s --pillar %s\n", l.RosterPath(), l.PillarDir())
		return nil
	case "down", "status":
		l, err := lab.Load(dir)
		if err != nil {
			hint := ""
			if errors.Is(err, os.ErrNotExist) {
				hint = fmt.Sprintf("no lab in %s; start one with 'statectl lab up --dir %s'", dir, dir)
			}
			return &cliError{code: report.ExitError, err: err, hint: hint}
		}
		if args[0] == "down" {
			if err := l.Down(a.ctx); err != nil {
				return &cliError{code: report.ExitError, err: err}
			}
			fmt.Fprintf(a.stdout, "lab in %s is down\n", dir)
			return nil
		}
		st, err := l.Status(a.ctx)
		if err != nil {
			return &cliError{code: report.ExitError, err: err}
		}
		tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tADDRESS\tPID\tRUNNING\tREADY\tCLUSTERED\tVERSION\tERROR")
		for _, s := range st {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%t\t%t\t%t\t%s\t%s\n", s.Name, s.Address, s.PID, s.Running, s.Ready, s.Clustered, s.Version, s.Error)
		}
		return tw.Flush()
	}
	return usageError("usage: statectl lab up|down|status", "unknown lab command %q", args[0])
}
