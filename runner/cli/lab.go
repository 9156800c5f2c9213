package cli

import (
	"errors"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/statectl/statectl/runner/lab"
	"github.com/statectl/statectl/runner/report"
)

const labUsage = "usage: statectl lab up|down|status [--dir DIR] [--members N] [--prefix 127.0.0]; statectl lab restart|reset NODE [--dir DIR]"

// labCmd is `statectl lab up|down|status` and `statectl lab restart|reset NODE`.
func (a *app) labCmd(args []string) error {
	if len(args) == 2 && (args[0] == "restart" || args[0] == "reset") {
		return a.labMember(args[0], args[1])
	}
	if len(args) != 1 {
		return usageError(labUsage, "lab needs one of up, down, status, or restart/reset and a member name")
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
		l, err := loadLab(dir)
		if err != nil {
			return err
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
	if args[0] == "restart" || args[0] == "reset" {
		return usageError(labUsage, "lab %s needs the member's name, e.g. 'statectl lab %s node2'", args[0], args[0])
	}
	return usageError(labUsage, "unknown lab command %q", args[0])
}

// labMember is `statectl lab restart NODE` (stop the daemon, start it
// again, wait until it is ready) and `statectl lab reset NODE` (wipe the
// member: a fresh, unclustered daemon at the same address).
func (a *app) labMember(cmd, name string) error {
	dir := a.opts.labDir
	l, err := loadLab(dir)
	if err != nil {
		return err
	}
	if _, ok := l.Member(name); !ok {
		return &cliError{code: report.ExitError, err: fmt.Errorf("failed to %s lab member: no member %q in %s", cmd, name, dir),
			hint: fmt.Sprintf("'statectl lab status --dir %s' lists the members", dir)}
	}
	if cmd == "restart" {
		took, err := l.Restart(a.ctx, name)
		if err != nil {
			return &cliError{code: report.ExitError, err: err}
		}
		fmt.Fprintf(a.stdout, "lab member %s restarted and ready in %s\n", name, took.Round(time.Millisecond))
		return nil
	}
	if err := l.Reset(a.ctx, name); err != nil {
		return &cliError{code: report.ExitError, err: err}
	}
	fmt.Fprintf(a.stdout, "lab member %s reset: a fresh, unclustered server at its address; 'statectl apply %s' joins it again\n", name, name)
	return nil
}

// loadLab reads the lab in dir, with a hint when there is none.
func loadLab(dir string) (*lab.Lab, error) {
	l, err := lab.Load(dir)
	if err != nil {
		hint := ""
		if errors.Is(err, os.ErrNotExist) {
			hint = fmt.Sprintf("no lab in %s; start one with 'statectl lab up --dir %s'", dir, dir)
		}
		return nil, &cliError{code: report.ExitError, err: err, hint: hint}
	}
	return l, nil
}
