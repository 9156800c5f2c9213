package cli

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/statectl/statectl/runner/compile"
	"github.com/statectl/statectl/runner/engine"
	"github.com/statectl/statectl/runner/grains"
	"github.com/statectl/statectl/runner/incusconn"
	"github.com/statectl/statectl/runner/module"
	"github.com/statectl/statectl/runner/pillar"
	"github.com/statectl/statectl/runner/render"
	"github.com/statectl/statectl/runner/report"
	"github.com/statectl/statectl/runner/roster"
	"github.com/statectl/statectl/runner/state"
	"github.com/statectl/statectl/runner/target"
)

// node is one selected target and what the pipeline computed for it so
// far; each stage fills its field once.
type node struct {
	name   string
	entry  *roster.Entry
	grains map[string]any
	pillar map[string]any
	// pillarOrder is the pillar's key order, for templates.
	pillarOrder *render.KeyOrder
	// pillarErr is kept so that target matching (which may need pillar)
	// and the run report the same error once.
	pillarErr error
	pillarOK  bool
}

// selectTargets resolves a target expression against the roster: a roster
// name, a glob or a compound expression. "local" is this machine even
// without a roster.
func (a *app) selectTargets(expr string) ([]*node, error) {
	r, err := a.readRoster()
	missing := errors.Is(err, os.ErrNotExist)
	if err != nil && !missing {
		return nil, &cliError{code: report.ExitError, err: err,
			hint: "fix the roster file, or point --roster at another one"}
	}
	if expr == grains.Local {
		if _, ok := r.Get(grains.Local); !ok {
			return []*node{{name: grains.Local, entry: &roster.Entry{Name: grains.Local}}}, nil
		}
	}
	if _, ok := r.Get(expr); !ok && isRemote(expr) {
		// An incus CLI remote is a target too; the incus module connects
		// to it through the CLI's config (no roster entry).
		return []*node{{name: expr}}, nil
	}
	if missing {
		return nil, &cliError{code: report.ExitError, err: err,
			hint: fmt.Sprintf("create %s (or pass --roster FILE); 'statectl lab up' writes one for a local lab; 'local' targets this machine", a.opts.roster)}
	}
	nodes := map[string]*node{}
	get := func(name string) *node {
		n, ok := nodes[name]
		if !ok {
			e, _ := r.Get(name)
			n = &node{name: name, entry: e}
			nodes[name] = n
		}
		return n
	}
	// Rendering every target's pillar is only worth it for I@/J@ matches.
	needsPillar := strings.Contains(expr, "I@") || strings.Contains(expr, "J@")
	names, err := target.MatchTargets(expr, r.Names(), func(name string) *target.Subject {
		// Matching on grains or pillar needs them; a failure here
		// resurfaces, with its own exit code, when the target runs.
		n := get(name)
		if a.loadGrains(n) != nil {
			return nil
		}
		s := &target.Subject{ID: name, Grains: n.grains}
		if needsPillar {
			s.Pillar, _ = a.loadPillar(n)
		}
		return s
	})
	if err != nil {
		hint := "run 'statectl grains TARGET' to see what a target matches on"
		if errors.Is(err, target.ErrNoMatch) {
			hint = fmt.Sprintf("the roster %s has: %s", r.File, strings.Join(r.Names(), ", "))
			if len(r.Names()) == 0 {
				hint = fmt.Sprintf("the roster %s is empty", r.File)
			} else if strings.Contains(expr, "@") {
				hint += "; 'statectl grains TARGET' shows the grains G@ matches on"
			}
		}
		return nil, &cliError{code: report.ExitError, err: err, hint: hint}
	}
	out := make([]*node, len(names))
	for i, name := range names {
		out[i] = get(name)
	}
	return out, nil
}

// grainsOrder is the key order of n's roster grains (nil without them).
func (n *node) grainsOrder() *render.KeyOrder {
	if n.entry == nil {
		return nil
	}
	return n.entry.GrainsOrder
}

func (a *app) loadGrains(n *node) error {
	if n.grains != nil {
		return nil
	}
	g, err := grains.Gather(a.ctx, n.name, n.entry, a.grainSources()...)
	if err != nil {
		return fmt.Errorf("failed to gather grains of %s: %w", n.name, err)
	}
	n.grains = g
	return nil
}

// loadPillar renders the target's pillar once. Errors exit with 5.
func (a *app) loadPillar(n *node) (map[string]any, error) {
	if n.pillarOK || n.pillarErr != nil {
		return n.pillar, n.pillarErr
	}
	if err := a.loadGrains(n); err != nil {
		n.pillarErr = err
		return nil, err
	}
	override, err := a.override()
	if err != nil {
		return nil, err
	}
	if err := a.checkTree("pillar", a.opts.pillar); err != nil {
		n.pillarErr = err
		return nil, err
	}
	p, order, err := pillar.CompileOrdered(a.opts.pillar, n.name, n.grains, override, n.grainsOrder())
	if err != nil {
		n.pillarErr = &cliError{code: report.ExitPillar, err: err,
			hint: fmt.Sprintf("run 'statectl pillar %s' after fixing the pillar tree %s", n.name, a.opts.pillar)}
		return nil, n.pillarErr
	}
	n.pillar, n.pillarOrder, n.pillarOK = p, order, true
	a.secrets.addPillar(p)
	return p, nil
}

// override parses --pillar-override: a JSON object (YAML flow syntax is
// accepted too, as Salt parses CLI pillar as YAML).
func (a *app) override() (map[string]any, error) {
	if strings.TrimSpace(a.opts.pillarOverride) == "" {
		return nil, nil
	}
	var v any
	err := yaml.Unmarshal([]byte(a.opts.pillarOverride), &v)
	m, ok := grains.Plain(v).(map[string]any)
	if err != nil || !ok {
		msg := "not an object"
		if err != nil {
			msg = strings.TrimPrefix(err.Error(), "yaml: ")
		}
		return nil, usageError(`pass an object, e.g. --pillar-override '{"incus": {"cluster": {"name": "lab"}}}'`,
			"invalid --pillar-override: %s", msg)
	}
	return m, nil
}

// compile renders and compiles the states for n: the named SLS, or what
// top.sls assigns (highstate) when none are named.
func (a *app) compile(n *node, reg *module.Registry, sls []string) (*state.Compiled, error) {
	p, err := a.loadPillar(n)
	if err != nil {
		return nil, err
	}
	if err := a.checkTree("states", a.opts.states); err != nil {
		return nil, err
	}
	if a.states == nil {
		a.states = render.New(a.opts.states)
	}
	opts := compile.Options{
		Root:     a.opts.states,
		Target:   &target.Subject{ID: n.name, Grains: n.grains, Pillar: p},
		Registry: reg,
		Renderer: a.states,

		GrainsOrder: n.grainsOrder(),
		PillarOrder: n.pillarOrder,
	}
	var c *state.Compiled
	if len(sls) == 0 {
		c, err = compile.Highstate(opts)
	} else {
		c, err = compile.SLS(opts, sls...)
	}
	if err != nil {
		return nil, pluginError(reg, compileError(err))
	}
	if len(sls) == 0 && len(c.States) == 0 {
		return nil, &cliError{code: report.ExitError,
			err:  fmt.Errorf("no states in %s/top.sls match %s", a.opts.states, n.name),
			hint: fmt.Sprintf("run 'statectl grains %s' to see what top.sls can match on, or name the SLS: statectl apply %s SLS", n.name, n.name)}
	}
	return c, nil
}

// compileError moves the hint of a single compile error to the CLI's
// "statectl: hint:" line; several errors keep their hints inline, next to
// the error each belongs to.
func compileError(err error) error {
	var one *compile.Error
	var many compile.Errors
	switch {
	case errors.As(err, &many) && len(many) == 1:
		one = many[0]
	case errors.As(err, &many):
		return &cliError{code: report.ExitError, err: err}
	case errors.As(err, &one):
	default:
		return &cliError{code: report.ExitError, err: err}
	}
	bare := *one
	bare.Hint = ""
	return &cliError{code: report.ExitError, err: &bare, hint: one.Hint}
}

// execute runs c for n and converts the engine's run to the report's.
// tune adjusts the engine options (test mode, a plan check).
func (a *app) execute(n *node, reg *module.Registry, c *state.Compiled, tune ...func(*engine.Options)) *report.Run {
	mt := a.moduleTarget(n)
	eo := engine.Options{
		Test:           a.opts.test,
		Failhard:       a.opts.failhard,
		Target:         mt,
		DefaultTimeout: a.opts.timeout,
		Now:            a.now,
		Secrets:        &a.secrets.Set, // errors printed later mask Secret arguments too
	}
	for _, f := range tune {
		f(&eo)
	}
	eo.PlanCheck = a.secrets.hook(eo.PlanCheck)
	run := engine.Execute(a.ctx, c, reg, eo)
	a.secrets.results(run.Results)
	return &report.Run{
		Target:      n.name,
		Test:        eo.Test,
		Results:     run.Results,
		Failhard:    run.Stopped,
		Interrupted: run.Interrupted,
		NotRun:      run.NotRun,
	}
}

// secretArg reports whether a state's argument is marked secret by its
// module, so renderings mask it.
func secretArg(reg *module.Registry) func(s *state.State, arg string) bool {
	return func(s *state.State, arg string) bool {
		_, fn, ok := reg.Func(s.Module, s.Function)
		if !ok {
			return false
		}
		spec, ok := fn.Arg(arg)
		return ok && spec.Secret
	}
}

// isRemote reports whether name is one of the incus CLI's remotes.
func isRemote(name string) bool {
	remotes, err := incusconn.Remotes(incusconn.DefaultConfigDir())
	if err != nil {
		return false
	}
	for _, r := range remotes {
		if r == name {
			return true
		}
	}
	return false
}
