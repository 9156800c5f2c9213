// Package cmd is Salt's `cmd` state module, reduced to cmd.run: a command
// run on the machine statectl runs on (not on the target), for the steps
// of a rolling maintenance that no state function covers, e.g.
// `ssh {{ grains['id'] }} apt-get install -y incus`.
//
// Deliberate differences from Salt:
//   - --test never runs anything: onlyif and unless are not evaluated in
//     test mode (Salt runs them), because statectl dry-runs untrusted
//     pull-request trees in CI. The result is None and says which
//     condition the real run would check. `creates` (a file test) is
//     evaluated.
//   - runas, shell, stateful and output_loglevel are not supported; the
//     command runs with /bin/sh -c.
//   - stdout and stderr are kept up to 64 KiB each in the result.
package cmd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/statectl/statectl/runner/module"
	"github.com/statectl/statectl/runner/secret"
)

// Name is the module name.
const Name = "cmd"

// Module is the cmd state module. The zero value is ready to use.
type Module struct{}

var _ module.Module = Module{}

// New returns the cmd module.
func New() Module { return Module{} }

// Name implements module.Module.
func (Module) Name() string { return Name }

// maxOutput bounds what a result keeps of each stream: a command's output
// lands in reports, JSON and saved records.
const maxOutput = 64 << 10

// killGrace is how long a command gets after SIGTERM (timeout, Ctrl-C)
// before its process group is killed.
const killGrace = 2 * time.Second

var specs = []module.FuncSpec{{
	Name: "run",
	Doc: "Runs a command with /bin/sh -c on the machine statectl runs on (not on the target). " +
		"The state fails when the command exits with a code not in success_retcodes (default 0); " +
		"changes hold pid, retcode, stdout and stderr. `--test` runs nothing (not even onlyif/unless) " +
		"and reports the command as a pending change.",
	Args: []module.ArgSpec{
		{Name: "name", Type: module.TypeString, Required: true, Doc: "The command line."},
		{Name: "cwd", Type: module.TypeString, Doc: "Working directory (default: statectl's)."},
		{Name: "env", Type: module.TypeAny, Doc: "Extra environment: a map, or Salt's list of one-key maps. Values of credential-named variables (PASSWORD, API_TOKEN ...) are masked in the result."},
		{Name: "timeout", Type: module.TypeInt, Doc: "Seconds before the command is stopped (SIGTERM, then SIGKILL of its process group) and the state fails."},
		{Name: "onlyif", Type: module.TypeStringList, Doc: "Commands that must all exit 0 for the command to run; otherwise the state succeeds without running it."},
		{Name: "unless", Type: module.TypeStringList, Doc: "Commands of which any exiting 0 skips the command (the state succeeds)."},
		{Name: "creates", Type: module.TypeStringList, Doc: "Paths: when all exist, the command is not run."},
		{Name: "success_retcodes", Type: module.TypeList, Doc: "Exit codes that count as success besides 0."},
	},
}}

// Functions implements module.Module.
func (Module) Functions() []module.FuncSpec { return specs }

// args are cmd.run's decoded arguments.
type args struct {
	name     string
	cwd      string
	env      map[string]string
	timeout  time.Duration
	onlyif   []string
	unless   []string
	creates  []string
	success  map[int]bool
	maskedBy *secret.Set
}

func decode(call *module.Call) (*args, error) {
	if call.Function != "run" {
		return nil, fmt.Errorf("unknown function cmd.%s", call.Function)
	}
	a := &args{success: map[int]bool{0: true}, maskedBy: &secret.Set{}}
	a.name = str(call.Args["name"])
	if strings.TrimSpace(a.name) == "" {
		return nil, errors.New("name: the command line is empty")
	}
	a.cwd = str(call.Args["cwd"])
	env, err := decodeEnv(call.Args["env"])
	if err != nil {
		return nil, err
	}
	a.env = env
	for k, v := range env {
		if secret.Key(k) {
			a.maskedBy.Add(v)
		}
	}
	if t, ok := call.Args["timeout"]; ok && t != nil {
		n, _ := toInt(t)
		if n <= 0 {
			return nil, fmt.Errorf("timeout: %v is not a positive number of seconds", t)
		}
		a.timeout = time.Duration(n) * time.Second
	}
	a.onlyif, a.unless, a.creates = strList(call.Args["onlyif"]), strList(call.Args["unless"]), strList(call.Args["creates"])
	if rc, ok := call.Args["success_retcodes"].([]any); ok {
		for _, x := range rc {
			n, ok := toInt(x)
			if !ok {
				return nil, fmt.Errorf("success_retcodes: %v is not an exit code", x)
			}
			a.success[n] = true
		}
	}
	return a, nil
}

// decodeEnv accepts {K: v} and Salt's [{K: v}, ...].
func decodeEnv(v any) (map[string]string, error) {
	out := map[string]string{}
	add := func(m map[string]any) error {
		for k, x := range m {
			if k == "" || strings.ContainsAny(k, "=\x00") {
				return fmt.Errorf("env: %q is not a variable name", k)
			}
			out[k] = str(x)
		}
		return nil
	}
	switch t := v.(type) {
	case nil:
	case map[string]any:
		if err := add(t); err != nil {
			return nil, err
		}
	case []any:
		for _, e := range t {
			m, ok := e.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("env: list entries must be one-key maps (- NAME: value), got %T", e)
			}
			if err := add(m); err != nil {
				return nil, err
			}
		}
	default:
		return nil, fmt.Errorf("env: want a map or a list of one-key maps, got %T", v)
	}
	return out, nil
}

// Validate implements module.Module.
func (Module) Validate(call *module.Call) error {
	_, err := decode(call)
	return err
}

// Plan implements module.Module. It runs nothing: onlyif and unless run
// in Apply, so test mode and saved plans never execute a command.
func (Module) Plan(_ context.Context, call *module.Call) (*module.Plan, error) {
	a, err := decode(call)
	if err != nil {
		return nil, err
	}
	if done, why := a.created(); done {
		return &module.Plan{Action: module.NoOp, Comment: why}, nil
	}
	comment := fmt.Sprintf("Command %q would have been executed", a.name)
	var conds []string
	if len(a.onlyif) > 0 {
		conds = append(conds, fmt.Sprintf("onlyif %s exits 0", quoteAll(a.onlyif)))
	}
	if len(a.unless) > 0 {
		conds = append(conds, fmt.Sprintf("unless %s exits 0", quoteAll(a.unless)))
	}
	if len(conds) > 0 {
		comment += " if " + strings.Join(conds, " and ") + " (not run in test mode)"
	}
	return &module.Plan{Action: module.Create, Comment: a.maskedBy.String(comment),
		Changes: map[string]any{"cmd": a.maskedBy.String(a.name)}}, nil
}

// created reports whether every creates path exists.
func (a *args) created() (bool, string) {
	if len(a.creates) == 0 {
		return false, ""
	}
	for _, p := range a.creates {
		if !filepath.IsAbs(p) && a.cwd != "" {
			p = filepath.Join(a.cwd, p)
		}
		if _, err := os.Stat(p); err != nil {
			return false, ""
		}
	}
	return true, "All files in creates exist"
}

// Apply implements module.Module.
func (Module) Apply(ctx context.Context, call *module.Call, _ *module.Plan) (*module.Outcome, error) {
	a, err := decode(call)
	if err != nil {
		return nil, err
	}
	for _, c := range a.onlyif {
		if r := a.exec(ctx, c); r.err != nil || r.code != 0 {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("failed to check onlyif: %w", ctx.Err())
			}
			return &module.Outcome{Comment: a.maskedBy.String(fmt.Sprintf("onlyif condition is false: %q exited %s", c, r.status()))}, nil
		}
	}
	for _, c := range a.unless {
		if r := a.exec(ctx, c); r.err == nil && r.code == 0 {
			return &module.Outcome{Comment: a.maskedBy.String(fmt.Sprintf("unless condition is true: %q exited 0", c))}, nil
		} else if ctx.Err() != nil {
			return nil, fmt.Errorf("failed to check unless: %w", ctx.Err())
		}
	}
	r := a.exec(ctx, a.name)
	changes := map[string]any{
		"pid":     r.pid,
		"retcode": r.code,
		"stdout":  a.maskedBy.String(r.stdout),
		"stderr":  a.maskedBy.String(r.stderr),
	}
	o := &module.Outcome{Changes: changes, Comment: a.maskedBy.String(fmt.Sprintf("Command %q run", a.name))}
	switch {
	case r.err != nil && r.pid == 0:
		return &module.Outcome{Failed: true, Comment: a.maskedBy.String(fmt.Sprintf("Command %q could not start: %v", a.name, r.err))}, nil
	case r.timedOut:
		o.Failed = true
		o.Comment = a.maskedBy.String(fmt.Sprintf("Command %q timed out after %s and was stopped", a.name, a.timeout))
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		o.Failed = true
		o.Comment = a.maskedBy.String(fmt.Sprintf("Command %q was stopped: the state's time limit ran out", a.name))
	case ctx.Err() != nil:
		o.Failed = true
		o.Comment = a.maskedBy.String(fmt.Sprintf("Command %q was stopped: the run was interrupted", a.name))
	case !a.success[r.code]:
		o.Failed = true
	}
	return o, nil
}

// result is one finished command.
type result struct {
	pid            int
	code           int
	stdout, stderr string
	timedOut       bool
	err            error
}

func (r result) status() string {
	if r.err != nil && r.pid == 0 {
		return "without starting: " + r.err.Error()
	}
	return strconv.Itoa(r.code)
}

// exec runs line with /bin/sh -c in its own process group, stopped on
// timeout or cancel (SIGTERM, then SIGKILL after killGrace).
func (a *args) exec(parent context.Context, line string) result {
	ctx := parent
	if a.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(parent, a.timeout)
		defer cancel()
	}
	c := exec.Command("/bin/sh", "-c", line)
	c.Dir = a.cwd
	c.Env = os.Environ()
	keys := make([]string, 0, len(a.env))
	for k := range a.env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		c.Env = append(c.Env, k+"="+a.env[k])
	}
	var out, errb capped
	c.Stdout, c.Stderr = &out, &errb
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := c.Start(); err != nil {
		return result{code: -1, err: err}
	}
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	var err error
	timedOut := false
	select {
	case err = <-done:
	case <-ctx.Done():
		timedOut = parent.Err() == nil // our own timeout, not the run's
		_ = syscall.Kill(-c.Process.Pid, syscall.SIGTERM)
		select {
		case err = <-done:
		case <-time.After(killGrace):
			_ = syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
			err = <-done
		}
	}
	r := result{pid: c.Process.Pid, stdout: out.String(), stderr: errb.String(), timedOut: timedOut}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode() // -1 when killed by a signal
	default:
		r.code, r.err = -1, err
	}
	return r
}

// capped keeps the first maxOutput bytes written to it.
type capped struct {
	b         bytes.Buffer
	truncated bool
}

func (c *capped) Write(p []byte) (int, error) {
	if room := maxOutput - c.b.Len(); room < len(p) {
		c.b.Write(p[:max(room, 0)])
		c.truncated = true
		return len(p), nil
	}
	return c.b.Write(p)
}

func (c *capped) String() string {
	s := strings.TrimRight(c.b.String(), "\n")
	if c.truncated {
		s += fmt.Sprintf("\n[output truncated at %d KiB]", maxOutput>>10)
	}
	return s
}

func str(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	}
	return fmt.Sprint(v)
}

func strList(v any) []string {
	switch t := v.(type) {
	case string:
		return []string{t}
	case []any:
		out := make([]string, 0, len(t))
		for _, e := range t {
			out = append(out, str(e))
		}
		return out
	}
	return nil
}

func toInt(v any) (int, bool) {
	switch t := v.(type) {
	case int:
		return t, true
	case int64:
		return int(t), true
	case uint64:
		return int(t), true
	case float64:
		if t == float64(int(t)) {
			return int(t), true
		}
	case string:
		n, err := strconv.Atoi(t)
		return n, err == nil
	}
	return 0, false
}

func quoteAll(s []string) string {
	q := make([]string, len(s))
	for i, x := range s {
		q[i] = strconv.Quote(x)
	}
	return strings.Join(q, ", ")
}
