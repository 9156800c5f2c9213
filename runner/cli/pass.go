package cli

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/pflag"

	"github.com/statectl/statectl/runner/engine"
	"github.com/statectl/statectl/runner/lock"
	"github.com/statectl/statectl/runner/module"
	"github.com/statectl/statectl/runner/report"
	"github.com/statectl/statectl/runner/state"
	"github.com/statectl/statectl/runner/watch"
)

// addRunFlags adds the flags of the run lock, saved plans and watch.
func addRunFlags(fs *pflag.FlagSet, o *options) {
	fs.StringVar(&o.lockDir, "lock-dir", "", "per-target run lock `DIR` (default $XDG_RUNTIME_DIR/statectl, /run/statectl or /tmp/statectl-UID)")
	fs.DurationVar(&o.lockTimeout, "lock-timeout", 0, "wait this long for another run on the same target to finish (0: fail at once)")
	fs.StringVar(&o.planFile, "plan", "", "statectl apply: apply the saved plan `FILE` (from statectl plan), refusing it if stale")
	fs.StringVarP(&o.planOut, "output", "o", "", "statectl plan: write the plan to `FILE`")
	fs.DurationVar(&o.interval, "interval", watch.DefaultInterval, "statectl watch: time between passes")
	fs.DurationVar(&o.splay, "splay", 0, "statectl watch: random extra delay up to this, added to each interval")
	fs.DurationVar(&o.debounce, "debounce", watch.DefaultDebounce, "statectl watch: quiet time after a cluster event before a pass")
	fs.StringVar(&o.logFile, "log-file", "", "statectl watch: append one JSON line per pass to `FILE` (default stdout)")
	fs.StringVar(&o.metricsAddr, "metrics-addr", "", "statectl watch: serve /metrics and /healthz on `ADDR` (host:port)")
	fs.DurationVar(&o.eventTimeout, "event-timeout", watch.DefaultLiveness, "statectl watch: drop an event stream silent this long (the member is pinged) and follow another member")
}

// runFormat parses --out and --state-output for a command reporting runs.
func (a *app) runFormat() (report.Format, report.RunOptions, error) {
	var opts report.RunOptions
	format := report.Human
	if a.opts.out != "" {
		f, err := report.ParseRunFormat(a.opts.out)
		if err != nil {
			return "", opts, usageError("use --out human, json, yaml, json-v1, markdown or junit", "%w", err)
		}
		format = f
	}
	mode, err := report.ParseStateOutput(a.opts.stateOutput)
	if err != nil {
		return "", opts, usageError("use --state-output full, terse, mixed or changes", "%w", err)
	}
	opts = report.RunOptions{
		Options:  report.Options{StateOutput: mode, Color: a.color()},
		Version:  version(),
		Detailed: a.opts.detailed,
	}
	return format, opts, nil
}

// planCheck is the engine's plan hook.
type planCheck = func(s *state.State, p *module.Plan, prior []*state.Result) (*module.Plan, error)

// passOptions adapt a pass to its command.
type passOptions struct {
	// function names the run in the lock (state.apply, state.watch).
	function string
	// check, if set, sees every plan (drift count).
	check planCheck
	// preflight, if set, runs after compiling and before locking; its
	// error ends the pass (watch: is the target's daemon reachable?).
	preflight func(n *node) error
}

// pass is one target's run, shared by apply and every watch pass: compile
// (offline), take the target's run lock, then plan and apply (or only plan
// with --test).
func (a *app) pass(n *node, reg *module.Registry, sls []string, po passOptions) (*report.Run, error) {
	c, err := a.compile(n, reg, sls)
	if err != nil {
		return nil, err
	}
	if po.preflight != nil {
		if err := po.preflight(n); err != nil {
			return nil, err
		}
	}
	l, err := a.lockTarget(n, po.function)
	if err != nil {
		return nil, err
	}
	defer l.Release()
	return a.execute(n, reg, c, func(o *engine.Options) { o.PlanCheck = po.check }), nil
}

// lockTarget takes the target's run lock, waiting up to --lock-timeout.
func (a *app) lockTarget(n *node, function string) (*lock.Lock, error) {
	dir := a.opts.lockDir
	if dir == "" {
		dir = lock.DefaultDir()
	}
	h := lock.Holder{Target: n.name, Function: function, Started: time.Now()}
	if n.entry != nil {
		h.Endpoint = n.entry.Socket
		if h.Endpoint == "" {
			h.Endpoint = n.entry.URL
		}
	}
	l, err := lock.Acquire(a.ctx, dir, h, a.opts.lockTimeout)
	var busy *lock.BusyError
	if errors.As(err, &busy) {
		return nil, &cliError{code: report.ExitError, err: err,
			hint: fmt.Sprintf("wait for it to finish, or pass --lock-timeout 5m to wait (lock file %s)", lock.Path(dir, h.Target, h.Endpoint))}
	}
	if err != nil {
		return nil, &cliError{code: report.ExitError, err: err, hint: "pass --lock-dir DIR to put run locks elsewhere"}
	}
	return l, nil
}
