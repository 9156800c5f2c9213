package cli

import (
	"github.com/spf13/pflag"

	"github.com/statectl/statectl/runner/clusterlock"
	"github.com/statectl/statectl/runner/report"
	"github.com/statectl/statectl/runner/run"
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
	fs.DurationVar(&o.debounce, "debounce", watch.DefaultDebounce, "statectl watch: window after each pass: events heard in it beyond the pass's own writes run one follow-up pass; later events run a pass at once")
	fs.StringVar(&o.logFile, "log-file", "", "statectl watch: append one JSON line per pass to `FILE` (default stdout)")
	fs.StringVar(&o.metricsAddr, "metrics-addr", "", "statectl watch: serve /metrics and /healthz on `ADDR` (host:port)")
	fs.DurationVar(&o.eventTimeout, "event-timeout", watch.DefaultLiveness, "statectl watch: drop an event stream silent this long (the member is pinged) and follow another member")
	fs.BoolVar(&o.clusterLock, "cluster-lock", true, "statectl watch: correct drift only while holding the cluster's lock (profile statectl-lock), so watchers on several machines write a drift once; statectl apply: only when given, hold it while each target runs, so watchers leave the cluster to the apply")
	fs.DurationVar(&o.clusterLockWait, "cluster-lock-wait", watch.DefaultClusterLockWait, "wait this long for another run's cluster lock (watch: then leave the drift to it and retry later; apply: then fail the target)")
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

// applyPass is the pass options of apply's targets: with --cluster-lock
// given (on the command line or in statectl.yaml), each target runs
// holding its cluster's lock, so watchers defer to the apply. Off by
// default: it costs every applied target two writes, no-ops included.
func (a *app) applyPass() run.Pass {
	p := run.Pass{Function: "state.apply"}
	if a.flags.Changed("cluster-lock") && a.opts.clusterLock {
		a.lockerOnce.Do(func() { a.locker = clusterlock.New() })
		p.ClusterLock, p.ClusterLockWait = a.locker, a.opts.clusterLockWait
	}
	return p
}
