package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/statectl/statectl/runner/clusterlock"
	"github.com/statectl/statectl/runner/gitsrc"
	"github.com/statectl/statectl/runner/incusconn"
	"github.com/statectl/statectl/runner/module"
	"github.com/statectl/statectl/runner/planfile"
	"github.com/statectl/statectl/runner/report"
	"github.com/statectl/statectl/runner/roster"
	"github.com/statectl/statectl/runner/run"
	"github.com/statectl/statectl/runner/secret"
	"github.com/statectl/statectl/runner/state"
	"github.com/statectl/statectl/runner/watch"
)

// preflightTimeout bounds the reachability check before a watch pass.
const preflightTimeout = 5 * time.Second

// watcher is one `statectl watch` invocation.
type watcher struct {
	a      *app
	args   []string // the whole command line, re-parsed on SIGHUP
	expr   string
	sls    []string
	rec    *watch.Recorder
	events *watch.Events
	// listeners maps a target to the cancel of its event listener.
	listeners map[string]context.CancelFunc
	lmu       sync.Mutex
	// interrupted is set when the last pass was cut short by SIGINT.
	interrupted bool
	// follow is the followed repository (--git; nil: local trees), cur
	// what the running pass reads from it (see gitwatch.go).
	follow *gitsrc.Follower
	cur    *passSource
	// locker takes the cluster lock around corrections (nil:
	// --cluster-lock=false); its writes are not the passes' own.
	locker *clusterlock.Locker
}

// watchCmd is `statectl watch TARGET [SLS...]`: the reconcile loop.
func (a *app) watchCmd(rest, all []string) error {
	expr, sls, err := targetArgs("watch", rest, true)
	if err != nil {
		return err
	}
	if a.opts.interval <= 0 {
		return usageError("e.g. --interval 10m", "--interval must be positive")
	}
	if a.opts.eventTimeout <= 0 {
		return usageError("e.g. --event-timeout 15s", "--event-timeout must be positive")
	}
	if a.counter == nil {
		a.counter = &incusconn.Counter{} // each pass's requests go to its record
	}
	var log io.Writer = a.stdout
	if a.opts.logFile != "" {
		f, err := openLogFile(a.opts.logFile)
		if err != nil {
			return &cliError{code: report.ExitError, err: fmt.Errorf("failed to open log file: %w", err)}
		}
		defer f.Close()
		log = f
	}
	w := &watcher{a: a, args: all, expr: expr, sls: sls, rec: watch.NewRecorder(log),
		events: watch.NewEvents(), listeners: map[string]context.CancelFunc{}}
	if a.opts.clusterLock && !a.opts.test {
		w.locker = clusterlock.New()
		w.locker.Logf = w.logf
	}
	repo, err := a.gitRepo()
	if err != nil {
		return err
	}
	if a.opts.metricsAddr != "" {
		stop, err := w.serveMetrics(a.opts.metricsAddr)
		if err != nil {
			return err
		}
		defer stop()
	}

	stop := make(chan struct{})
	reload := make(chan struct{}, 1)
	sigs := make(chan os.Signal, 4)
	a.termOwned.Store(true) // SIGTERM finishes the pass instead of interrupting it
	defer a.termOwned.Store(false)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	go func() {
		stopped := false
		for s := range sigs {
			switch {
			case s == syscall.SIGHUP:
				w.logf("SIGHUP: re-reading inputs")
				notify(reload)
			case !stopped:
				w.logf("SIGTERM: stopping after the current pass")
				stopped = true
				close(stop)
			}
		}
	}()
	defer w.stopListeners()

	var commits <-chan struct{}
	if repo != nil {
		commits = w.startFollow(repo)
	}
	w.logf("watching %s every %s (splay %s)", expr, a.opts.interval, a.opts.splay)
	err = watch.Run(a.ctx, watch.Config{
		Interval: a.opts.interval,
		Splay:    a.opts.splay,
		Debounce: a.opts.debounce,
		Pass:     w.pass,
		Inputs:   w.inputsDigest,
		Events:   w.events,
		Writes:   w.writes,
		Reload:   reload,
		Commits:  commits,
		Stop:     stop,
		Logf:     w.logf,
	})
	w.logf("stopped")
	if err != nil && w.interrupted {
		return exitCode(report.ExitFailed)
	}
	return nil
}

// writes counts the passes' own writes: the cluster lock's are not, as no
// event the loop weighs them against follows them.
func (w *watcher) writes() int64 {
	if w.locker == nil {
		return w.a.counter.Writes()
	}
	return w.a.counter.Writes() - w.locker.Writes()
}

// notify sends on a buffered channel without blocking: a pending signal
// already covers this one.
func notify(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

func (w *watcher) logf(format string, args ...any) {
	fmt.Fprintf(w.a.stderr, "statectl: watch: "+format+"\n", args...)
}

// serveMetrics serves /metrics, /healthz and the status page (/) until
// the returned stop.
func (w *watcher) serveMetrics(addr string) (func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, &cliError{code: report.ExitError, err: fmt.Errorf("failed to listen on %s: %w", addr, err)}
	}
	srv := &http.Server{Handler: w.rec.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	w.logf("status on http://%s/, metrics on http://%s/metrics, health on http://%s/healthz", ln.Addr(), ln.Addr(), ln.Addr())
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}

// inputsDigest digests the files a pass reads, to notice an edit after a
// render or compile error.
func (w *watcher) inputsDigest() string {
	o := w.a.opts
	var parts []string
	if w.follow != nil {
		// The trees of a commit never change: a new commit does.
		head, _ := w.follow.Head()
		parts = append(parts, head)
	}
	for _, d := range []string{o.states, o.pillar} {
		if w.follow != nil {
			break
		}
		s, err := planfile.TreeDigest(d)
		parts = append(parts, s, fmt.Sprint(err))
	}
	for _, f := range []string{o.roster, o.config} {
		data, err := os.ReadFile(f)
		parts = append(parts, string(data), fmt.Sprint(err))
	}
	return strings.Join(parts, "\x00")
}

// reload re-parses the command line and statectl.yaml (SIGHUP). The loop's
// own settings (interval, splay, debounce, event timeout, log file, metrics
// address) keep their start values.
func (w *watcher) reload() error {
	var o options
	fresh := &app{stdout: w.a.stdout, stderr: w.a.stderr, ctx: w.a.ctx}
	fresh.flags = newFlags(&o)
	if err := fresh.flags.Parse(w.args); err != nil {
		return err
	}
	fresh.opts = o
	if err := fresh.loadConfig(); err != nil {
		return err
	}
	keep := w.a.opts
	o = fresh.opts
	o.interval, o.splay, o.debounce, o.logFile, o.metricsAddr, o.eventTimeout = keep.interval, keep.splay, keep.debounce, keep.logFile, keep.metricsAddr, keep.eventTimeout
	o.git = keep.git // the follower keeps its repository
	w.a.opts = o
	w.a.flags = fresh.flags
	return nil
}

// pass is one reconcile pass over every selected target; its outcome is
// the worst: a transient failure anywhere retries soon.
func (w *watcher) pass(ctx context.Context, info watch.PassInfo) watch.Outcome {
	if w.follow != nil {
		return w.gitPass(ctx, info)
	}
	out, _ := w.run(ctx, info)
	return out
}

// run is a pass on the current trees. With --git and a commit not yet
// applied (w.cur.check), every target is compiled before any runs: a
// commit that fails to render or compile is returned as refused, and
// nothing of it was applied.
func (w *watcher) run(ctx context.Context, info watch.PassInfo) (watch.Outcome, error) {
	a := w.a
	start := time.Now()
	w.logf("pass %d (%s)", info.Seq, info.Trigger)
	fail := func(target string, out watch.Outcome, err error) watch.Outcome {
		w.record(watch.Record{Pass: info.Seq, Target: target, Trigger: info.Trigger, Test: a.opts.test, Start: start,
			DurationMS: ms(time.Since(start)), Outcome: out.String(), Error: oneLine(err)})
		return out
	}
	if info.Trigger == watch.Reload {
		if err := w.reload(); err != nil {
			return fail(w.expr, watch.Terminal, fmt.Errorf("failed to reload: %w", err)), nil
		}
	}
	// A session per pass: the roster, the trees and the cluster are read
	// afresh, and no connection or answer outlives the pass.
	s, err := a.open()
	if err != nil {
		return fail(w.expr, outcome(err), err), nil
	}
	defer s.Close()
	targets, err := s.Select(w.expr)
	if err != nil {
		if w.cur != nil && w.cur.check && outcome(err) == watch.Terminal {
			return watch.Terminal, err
		}
		return fail(w.expr, outcome(err), err), nil
	}
	targets = s.Order(targets, w.sls)
	if w.cur != nil && w.cur.check {
		for _, t := range targets {
			if _, err := s.Compile(t, w.sls); err != nil {
				if outcome(err) == watch.Terminal {
					return watch.Terminal, prefixed(t.Name, err)
				}
				w.cur.unchecked = true // not the commit's fault (grains); check it again next pass
			}
		}
	}
	worst := watch.OK
	names := make([]string, 0, len(targets))
	for _, t := range targets {
		names = append(names, t.Name)
		out := w.target(s, t, info)
		switch {
		case out == watch.Failed,
			out == watch.Deferred && worst != watch.Failed,
			out == watch.Terminal && worst == watch.OK:
			worst = out
		}
		if ctx.Err() != nil {
			w.interrupted = true
			break
		}
	}
	r, _ := s.Roster()
	w.syncListeners(r, names)
	return worst, nil
}

// outcome classifies a pass error: retried with backoff unless the error
// marks itself terminal (bad input: targets, trees, pillar, states), which
// waits for the inputs to change. Retrying by default is the safe rule: an
// error nobody classified is more likely a passing fault than bad input.
func outcome(err error) watch.Outcome {
	if run.IsTerminal(err) {
		return watch.Terminal
	}
	return watch.Failed
}

// target runs one target's pass and records it. With the cluster lock, a
// plan-only probe comes first; only drift makes the pass take the lock and
// run again, planning afresh, so of several watchers that saw one drift,
// the first to hold the lock corrects it and the others find nothing left.
func (w *watcher) target(s *run.Session, t *run.Target, info watch.PassInfo) watch.Outcome {
	a := w.a
	start := time.Now()
	drift := 0
	plans := map[string]watch.Pending{}
	reads, writes := a.counter.Reads(), w.writes()
	check := func(st *state.State, p *module.Plan, _ []*state.Result) (*module.Plan, error) {
		if len(p.Changes) > 0 || p.Fail {
			drift++
			// Masked as printed (the hook's copy); the status page
			// shows what a failed pass left undone.
			changes, _ := secret.MaskTree(p.Changes).(map[string]any)
			plans[st.ID] = watch.Pending{ID: st.ID, Comment: p.Comment, Changes: changes}
		}
		return p, nil
	}
	preflight := func(t *run.Target) error { return reachable(s, t) }
	pass := run.Pass{Function: "state.watch", Exec: run.Exec{Check: check}, Preflight: preflight}
	var r *state.Run
	var err error
	seen, note := 0, ""
	if w.locker != nil {
		probe := pass
		probe.Test, probe.Probe = true, true
		r, err = s.Pass(t, w.sls, probe)
		if err == nil && drift > 0 {
			seen, drift, plans = drift, 0, map[string]watch.Pending{}
			pass.Preflight = nil // answered a moment ago
			pass.ClusterLock, pass.ClusterLockWait = w.locker, a.opts.clusterLockWait
			r, err = s.Pass(t, w.sls, pass)
			if err == nil && drift == 0 {
				note = "the drift it planned was gone under the cluster lock: another run had corrected it"
			}
		}
	} else {
		r, err = s.Pass(t, w.sls, pass)
	}
	rec := watch.Record{Pass: info.Seq, Target: t.Name, Trigger: info.Trigger, Test: a.opts.test, Start: start, Drift: drift,
		Reads: a.counter.Reads() - reads, Writes: w.writes() - writes, Note: note}
	if err != nil {
		out := outcome(err)
		var re *run.Error
		if errors.As(err, &re) && re.Stage == run.StageClusterLock {
			var busy *clusterlock.BusyError
			if errors.As(err, &busy) {
				out = watch.Deferred
			}
			rec.Drift = seen
		}
		rec.Outcome, rec.Error, rec.DurationMS = out.String(), a.secrets.String(oneLine(err)), ms(time.Since(start))
		w.record(rec)
		return out
	}
	c := report.Count(r)
	rec.DurationMS = ms(time.Since(start))
	rec.States, rec.Changed, rec.Failed = c.Total, c.Changed, c.Failed
	for _, res := range r.Results {
		if res.Failed() {
			rec.FailedStates = append(rec.FailedStates, res.ID)
		}
		if !r.Test && res.Changed() && !res.Failed() {
			rec.Corrected++
		}
		if p, ok := plans[res.ID]; ok && (res.Failed() || r.Test) {
			p.Failed = res.Failed()
			if res.Failed() && res.Comment != "" {
				p.Comment = res.Comment
			}
			rec.Pending = append(rec.Pending, p)
		}
	}
	out := watch.OK
	if c.Failed > 0 || r.Interrupted {
		out = watch.Failed
	}
	if r.Interrupted {
		rec.Error = "interrupted"
	}
	rec.Outcome = out.String()
	w.record(rec)
	return out
}

func (w *watcher) record(rec watch.Record) {
	w.cur.decorate(&rec)
	if err := w.rec.Add(rec); err != nil {
		w.logf("warning: %v", err)
	}
	at := ""
	if rec.Commit != "" {
		at = " @" + gitsrc.Short(rec.Commit)
	}
	line := fmt.Sprintf("pass %d %s%s: %s, %d states, drift %d, corrected %d, failed %d (%.0fms)",
		rec.Pass, rec.Target, at, rec.Outcome, rec.States, rec.Drift, rec.Corrected, rec.Failed, rec.DurationMS)
	if rec.Error != "" {
		line += ": " + rec.Error
	}
	if rec.Note != "" {
		line += " (" + rec.Note + ")"
	}
	if rec.FailedCommit != "" {
		line += "; refused commit " + gitsrc.Short(rec.FailedCommit) + ": " + rec.FailedCommitError
	}
	w.logf("%s", line)
}

// reachable checks the target's daemon answers before a pass: otherwise
// every state would fail one by one with the same connection error. The
// connection is the pass's own (the session's pool), which the states then
// use.
func reachable(s *run.Session, t *run.Target) error {
	if !t.HasDaemon() {
		return nil // no daemon to ask (e.g. local test states)
	}
	ctx, cancel := context.WithTimeout(s.Context(), preflightTimeout)
	defer cancel()
	if _, err := s.Pool().Get(ctx, t.Name); err != nil {
		return &run.Error{Stage: run.StageConnect, Err: fmt.Errorf("cluster unreachable: %w", err)}
	}
	return nil
}

// syncListeners follows the lifecycle events of each selected target's
// cluster, starting and stopping listeners as the selection changes. A
// listener starts on the target's own daemon and fails over to the other
// members of its cluster (see watch.ClusterSources).
func (w *watcher) syncListeners(r *roster.Roster, names []string) {
	w.lmu.Lock()
	defer w.lmu.Unlock()
	want := map[string]bool{}
	rosterFile := w.a.opts.roster
	for _, name := range names {
		want[name] = true
		if _, ok := w.listeners[name]; ok {
			continue
		}
		ent := r.Entries[name]
		if ent == nil || !ent.HasEndpoint() { // listeners follow roster entries only
			continue
		}
		ctx, cancel := context.WithCancel(w.a.ctx)
		w.listeners[name] = cancel
		l := &watch.Listener{
			Sources: watch.ClusterSources(func() (*roster.Roster, error) { return roster.Load(rosterFile) }, name,
				incusconn.Options{ConnectTimeout: preflightTimeout, RequestTimeout: preflightTimeout, Secrets: &w.a.secrets.Set}),
			MaxBackoff: w.a.opts.interval,
			Liveness:   w.a.opts.eventTimeout,
			Notify: func(n watch.Notice) {
				if n.Reason != watch.Reconnected { // the listener logged that
					w.logf("%s: event %s on %s via %s", name, n.Reason, n.Location, n.Via)
				}
				w.events.Notify(n)
			},
			Logf: func(format string, args ...any) { w.logf(name+": "+format, args...) },
		}
		go l.Run(ctx)
	}
	for name, cancel := range w.listeners {
		if !want[name] {
			cancel()
			delete(w.listeners, name)
		}
	}
}

func (w *watcher) stopListeners() {
	w.lmu.Lock()
	defer w.lmu.Unlock()
	for name, cancel := range w.listeners {
		cancel()
		delete(w.listeners, name)
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func oneLine(err error) string {
	if err == nil {
		return ""
	}
	return strings.ReplaceAll(strings.TrimSpace(err.Error()), "\n", "; ")
}

// openLogFile opens the watch log for appending, creating it 0600: pass
// records name targets, states and errors, not for every local user.
func openLogFile(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
}
