// Package cli is the statectl command line: it parses flags (with defaults
// from statectl.yaml), opens a run session (package run) and renders what
// the session computes: each command is a view over it.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/spf13/pflag"

	"github.com/statectl/statectl/runner/clusterlock"
	"github.com/statectl/statectl/runner/config"
	"github.com/statectl/statectl/runner/incusconn"
	"github.com/statectl/statectl/runner/plugin"
	"github.com/statectl/statectl/runner/report"
	"github.com/statectl/statectl/runner/run"
)

// options are the parsed flags. One flag set serves every command; a flag
// a command does not use is ignored, as in Salt.
type options struct {
	test           bool
	states         string
	pillar         string
	roster         string
	pillarOverride string
	out            string
	stateOutput    string
	noColor        bool
	detailed       bool
	failhard       bool
	parallel       int // clusters of a fleet roster run at once (apply)
	timeout        time.Duration
	config         string
	showSecrets    bool
	offline        bool
	help           bool
	batch          batchOptions // statectl apply --batch (batch.go)
	// lab subcommand
	labDir     string
	labMembers int
	labPrefix  string
	// run lock, saved plans and watch (see pass.go, plan.go, watch.go)
	lockDir     string
	lockTimeout time.Duration
	planFile    string
	planOut     string
	interval    time.Duration
	splay       time.Duration
	debounce    time.Duration
	logFile     string
	metricsAddr string
	// silence before a watch event stream fails over (watch.Listener)
	eventTimeout time.Duration
	// watch: correct drift under the cluster lock (package clusterlock)
	clusterLock     bool
	clusterLockWait time.Duration
	// plugins (see plugins.go)
	logLevel logLevel
	// trees from a Git repository (see git.go)
	git gitOptions
}

// app is one invocation.
type app struct {
	opts   options
	flags  *pflag.FlagSet
	stdout io.Writer
	stderr io.Writer
	ctx    context.Context
	// now pins the engine's clock (see clockEnv); nil means time.Now.
	now func() time.Time
	// counter counts the run's Incus requests (see MainCounted).
	counter *incusconn.Counter
	// termOwned is set while a command handles SIGTERM itself (watch).
	termOwned atomic.Bool
	// secrets are the secrets seen so far by every session of this
	// invocation, masked in all output, errors included.
	secrets run.Secrets
	// source is the Git commit whose checkout the trees are read from
	// (--git; nil: the local trees).
	source *gitSource
	// locker takes the cluster lock for apply --cluster-lock.
	lockerOnce sync.Once
	locker     *clusterlock.Locker
}

// clockEnv pins the clock for reproducible output in the CLI's own script
// tests. It is deliberately undocumented for users.
const clockEnv = "STATECTL_TEST_CLOCK"

func newFlags(o *options) *pflag.FlagSet {
	fs := pflag.NewFlagSet("statectl", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.SortFlags = false
	fs.BoolVar(&o.test, "test", false, "plan only: report what would change, change nothing")
	fs.StringVar(&o.states, "states", run.DefaultStates, "state tree `DIR` (has top.sls)")
	fs.StringVar(&o.pillar, "pillar", run.DefaultPillar, "pillar tree `DIR` (has top.sls)")
	fs.StringVar(&o.roster, "roster", run.DefaultRoster, "roster `FILE` naming the targets")
	fs.StringVar(&o.pillarOverride, "pillar-override", "", "`JSON` object merged over the pillar (YAML flow syntax works too)")
	fs.StringVar(&o.out, "out", "", "output `FORMAT`: human, json, yaml; for apply/plan also json-v1, markdown, junit (default human for apply, yaml otherwise)")
	fs.StringVar(&o.stateOutput, "state-output", "full", "human layout per state, `STYLE`: full, terse, mixed or changes")
	fs.BoolVar(&o.noColor, "no-color", false, "never colour human output (it is only coloured on a terminal anyway)")
	fs.BoolVar(&o.detailed, "detailed-exitcode", false, "exit 3 when states succeeded and changed (or, with --test, would change)")
	fs.BoolVar(&o.failhard, "failhard", false, "stop a target's run at the first failed state")
	fs.IntVar(&o.parallel, "parallel", 1, "apply: run up to `N` clusters of a fleet roster at once (members of one cluster always in turn)")
	fs.DurationVar(&o.timeout, "timeout", 0, "time limit for each state's plan+apply, e.g. 2m (0: none; a state's own timeout: wins)")
	fs.BoolVar(&o.showSecrets, "show-secrets", false, "statectl pillar: print values of password/secret/token keys instead of ******")
	fs.BoolVar(&o.offline, "offline", false, "do not contact incusd for grains (render, pillar and grains of a CI check)")
	fs.StringVar(&o.config, "config", config.DefaultFile, "flag defaults `FILE`")
	fs.StringVar(&o.labDir, "dir", "./lab", "lab `DIR` (statectl lab)")
	fs.IntVar(&o.labMembers, "members", 3, "number of lab daemons (statectl lab up)")
	fs.StringVar(&o.labPrefix, "prefix", "127.0.0", "lab address `PREFIX`, three octets of 127.0.0.0/8: node1 listens on PREFIX.11 (statectl lab up)")
	addRunFlags(fs, o)
	addGitFlags(fs, &o.git)
	addBatchFlags(fs, &o.batch)
	fs.Var(&o.logLevel, "log-level", "plugin log `LEVEL` on stderr: trace, debug, info, warn, error or off")
	fs.BoolVarP(&o.help, "help", "h", false, "show help")
	return fs
}

// flags that make no sense in statectl.yaml.
var notInConfig = []string{"config", "help"}

// Main runs statectl with args (without the program name) and returns the
// process exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	return MainCounted(args, stdout, stderr, nil)
}

// MainCounted is Main with every Incus API request of the run (grains and
// state modules) counted in c: benchmarks and tests use it to show what a
// run costs and that a no-op apply sends no write. A nil c counts nothing.
func MainCounted(args []string, stdout, stderr io.Writer, c *incusconn.Counter) int {
	// No plugin process outlives statectl, whatever way the run ends.
	defer plugin.Cleanup()
	a := &app{stdout: stdout, stderr: stderr, counter: c}
	ctx, stop := a.signals()
	defer stop()
	a.ctx = ctx
	a.flags = newFlags(&a.opts)
	err := a.run(args)
	if err == nil {
		return report.ExitOK
	}
	return a.fail(err)
}

// signals returns the invocation's context: SIGINT and SIGTERM end it, so
// a run stops starting states and the module calls in flight clean up
// (revoke a join token, re-read membership) before the report is
// printed; a service manager's SIGTERM gets the same report as Ctrl-C.
// watch takes SIGTERM over (termOwned): it finishes the running pass.
func (a *app) signals() (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sigs:
				if s == syscall.SIGTERM && a.termOwned.Load() {
					continue
				}
				cancel()
			case <-done:
				return
			}
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		cancel()
	}
}

// cliError carries an exit code and a hint with an error.
type cliError struct {
	code int
	err  error
	hint string
}

func (e *cliError) Error() string { return e.err.Error() }
func (e *cliError) Unwrap() error { return e.err }

// exitCode is returned by commands whose output already said what went
// wrong (e.g. a failed state): nothing more is printed.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func usageError(hint string, format string, args ...any) error {
	return &cliError{code: report.ExitError, err: fmt.Errorf(format, args...), hint: hint}
}

// fail prints err as "statectl: error: ..." (plus a hint when known) and
// returns its exit code.
func (a *app) fail(err error) int {
	var code exitCode
	if errors.As(err, &code) {
		return int(code)
	}
	a.printError(err)
	c, _ := errorInfo(err)
	return c
}

func (a *app) printError(err error) {
	fmt.Fprintf(a.stderr, "statectl: error: %s\n", a.secrets.String(strings.TrimRight(err.Error(), "\n")))
	if _, hint := errorInfo(err); hint != "" {
		fmt.Fprintf(a.stderr, "statectl: hint: %s\n", a.secrets.String(hint))
	}
}

func (a *app) run(args []string) error {
	if err := a.flags.Parse(args); err != nil {
		return a.flagError(err)
	}
	if err := a.loadConfig(); err != nil {
		return err
	}
	pos := a.flags.Args()
	if a.opts.help {
		return a.help(pos)
	}
	if len(pos) == 0 {
		fmt.Fprint(a.stderr, usage+a.flags.FlagUsages())
		return exitCode(report.ExitError)
	}
	if v := os.Getenv(clockEnv); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return fmt.Errorf("invalid %s: %w", clockEnv, err)
		}
		a.now = func() time.Time { return t }
	}
	cmd, rest := pos[0], pos[1:]
	switch cmd {
	case "apply":
		return a.apply(rest)
	case "render":
		return a.render(rest)
	case "pillar":
		return a.pillarCmd(rest)
	case "grains":
		return a.grainsCmd(rest)
	case "modules":
		return a.modulesCmd(rest)
	case "lab":
		return a.labCmd(rest)
	case "plan":
		return a.planCmd(rest)
	case "watch":
		return a.watchCmd(rest, args)
	case "version":
		if len(rest) > 0 {
			return usageError("run 'statectl version'", "version takes no arguments")
		}
		fmt.Fprintf(a.stdout, "statectl %s\n", version())
		return nil
	case "help":
		return a.help(rest)
	}
	return unknownCommand(cmd)
}

// loadConfig applies statectl.yaml to the flags not given on the command
// line. The default file may be absent; a file named with --config may not.
func (a *app) loadConfig() error {
	path := a.opts.config
	if a.flags.Changed("config") {
		if _, err := os.Stat(path); err != nil {
			return usageError("", "failed to read %s: %w", path, err)
		}
	}
	f, err := config.Load(path)
	if err == nil {
		err = f.Apply(a.flags, notInConfig...)
	}
	if err != nil {
		return usageError("statectl.yaml keys are the long flag names listed by 'statectl help', with flag values", "%w", err)
	}
	return nil
}

// format returns the --out format, def when none was given.
func (a *app) format(def report.Format) (report.Format, error) {
	if a.opts.out == "" {
		return def, nil
	}
	f, err := report.ParseFormat(a.opts.out)
	if err != nil {
		hint := "use --out yaml (the default) or --out json"
		if _, rerr := report.ParseRunFormat(a.opts.out); rerr == nil {
			hint = "--out " + a.opts.out + " is for apply and plan; this command prints yaml (the default) or json"
		}
		return "", usageError(hint, "%w", err)
	}
	return f, nil
}

// color reports whether human output is coloured: only on a terminal, and
// never with --no-color, NO_COLOR (no-color.org) or TERM=dumb.
func (a *app) color() bool {
	if a.opts.noColor || os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	f, ok := a.stdout.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}
