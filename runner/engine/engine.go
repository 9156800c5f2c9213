// Package engine runs a compiled state list through the state modules with
// Salt's requisite semantics and returns Salt's result model.
//
// Every state is planned first. Test mode stops there, so it is honest by
// construction; an apply calls Apply only when the plan has changes or
// predicts a failure, so a converged state costs one read and no write.
//
// Deliberate differences from Salt (documented for users in docs/):
//   - test mode evaluates requisites on predicted results: a state that would
//     change fires its onchanges and watch dependents, a predicted failure
//     fires onfail and blocks require;
//   - failhard is honoured in test mode too, and the onfail handlers of the
//     state that stopped the run still run (that is what they are for);
//   - X prereq Y when Y's plan predicts a failure: X is not run (True, with a
//     comment naming Y) and Y then fails on its own at its turn with its real
//     error, instead of Salt failing X with "One or more requisite failed";
//   - watch calls mod_watch after the state function succeeded whenever a
//     watched state changed and merges its changes and comment into the
//     state's, instead of replacing the return only when the function made
//     no changes.
package engine

import (
	"context"
	"time"

	"github.com/statectl/statectl/runner/module"
	"github.com/statectl/statectl/runner/secret"
	"github.com/statectl/statectl/runner/state"
)

// Observer receives progress as it happens; the engine never prints.
// Calls come from the goroutine running Execute, in run order.
type Observer interface {
	StateStarted(s *state.State)
	StateFinished(r *state.Result)
}

// Options tune a run. The zero value is an apply without timeouts.
type Options struct {
	// Test plans only (Salt's test=True).
	Test bool
	// Failhard is the global failhard: stop after the first failure.
	Failhard bool
	// Target is handed to every module call.
	Target *module.Target
	// Observer, if set, sees each state start and finish.
	Observer Observer
	// DefaultTimeout bounds Plan+Apply(+ModWatch) of a state without its own
	// timeout; 0 means no bound.
	DefaultTimeout time.Duration
	// Now is the clock (tests pin it); nil means time.Now.
	Now func() time.Time
	// PlanCheck, if set, sees each state's plan before the engine acts on
	// it, with the results of the states run before it. It may return
	// another plan to act on (a saved plan) or an error, which fails the
	// state with the error as its comment before anything is applied.
	// Saved plans (statectl plan / apply --plan) and the watch loop's drift
	// count use it. Plans made for prereq checks are not shown to it.
	PlanCheck func(s *state.State, plan *module.Plan, prior []*state.Result) (*module.Plan, error)
	// Upstream is what earlier runs of the same session (other targets)
	// planned or did; module calls see it before this run's own states.
	Upstream []module.Upstream
	// Secrets, if set, is the run's secret set: the engine adds every
	// argument declared Secret to it and masks results with it, so the
	// caller masks the same values in what it prints. Nil: the engine
	// keeps its own.
	Secrets *secret.Set
}

// Run is the outcome of Execute: the shared result model.
type Run = state.Run

// Execute runs c's states in order. It never returns an error: every
// problem, including a missing module, is a failed state result.
func Execute(ctx context.Context, c *state.Compiled, reg *module.Registry, opts Options) *Run {
	e := newExecutor(c, reg, opts)
	run := &Run{Test: opts.Test}
	if opts.Target != nil {
		run.Target = opts.Target.Name
	}
	n := len(c.States)
	stoppedAt := -1
	for i, s := range c.States {
		if ctx.Err() != nil {
			run.Interrupted = true
			run.NotRun += n - i
			break
		}
		if stoppedAt >= 0 && !handles(s, stoppedAt) {
			run.NotRun++
			continue
		}
		r := e.runState(ctx, i)
		r.RunNum = len(run.Results)
		run.Results = append(run.Results, r)
		e.upstream = append(e.upstream, Upstream(run.Target, []*state.Result{r})...)
		if e.opts.Observer != nil {
			e.opts.Observer.StateFinished(r)
		}
		if stoppedAt < 0 && r.Failed() && (s.Failhard || opts.Failhard) {
			run.Failhard = true
			run.StoppedBy = r.Tag
			stoppedAt = i
		}
	}
	// The last state may have been interrupted (and finished its cleanup).
	run.Interrupted = run.Interrupted || ctx.Err() != nil
	return run
}

// handles reports whether s is an onfail handler of the state at index idx.
func handles(s *state.State, idx int) bool {
	for _, d := range s.Deps {
		if d.Kind == state.OnFail && d.Index == idx {
			return true
		}
	}
	return false
}

// executor is the state of one Execute call.
type executor struct {
	c     *state.Compiled
	reg   *module.Registry
	opts  Options
	now   func() time.Time
	funcs map[string]funcRef
	// results by state index; nil until the state ran.
	results []*state.Result
	// prereqBy[y] lists the states that prereq y: y fails if one of them did.
	prereqBy [][]int
	secrets  *secret.Set
	// upstream is Options.Upstream plus this run's results so far, as
	// module calls see them.
	upstream []module.Upstream
}

// funcRef caches a registry lookup: Functions() may build its slice per call.
type funcRef struct {
	mod  module.Module
	spec module.FuncSpec
	ok   bool
}

func newExecutor(c *state.Compiled, reg *module.Registry, opts Options) *executor {
	e := &executor{
		c:        c,
		reg:      reg,
		opts:     opts,
		now:      opts.Now,
		funcs:    map[string]funcRef{},
		results:  make([]*state.Result, len(c.States)),
		prereqBy: make([][]int, len(c.States)),
	}
	if e.now == nil {
		e.now = time.Now
	}
	e.upstream = append([]module.Upstream{}, opts.Upstream...)
	for i, s := range c.States {
		for _, d := range s.Deps {
			if d.Kind == state.Prereq && valid(c, d.Index) {
				e.prereqBy[d.Index] = append(e.prereqBy[d.Index], i)
			}
		}
	}
	e.secrets = opts.Secrets
	if e.secrets == nil {
		e.secrets = &secret.Set{}
	}
	e.addSecrets()
	return e
}

func valid(c *state.Compiled, idx int) bool { return idx >= 0 && idx < len(c.States) }

func (e *executor) lookup(s *state.State) funcRef {
	key := s.Module + "." + s.Function
	f, ok := e.funcs[key]
	if !ok {
		if e.reg != nil {
			f.mod, f.spec, f.ok = e.reg.Func(s.Module, s.Function)
		}
		e.funcs[key] = f
	}
	return f
}

// call builds the module call for s. Args is a copy: a module mutating it
// must not change the compiled state (prereq plans the same state twice).
func (e *executor) call(s *state.State, test bool) *module.Call {
	args := make(map[string]any, len(s.Args)+1)
	for k, v := range s.Args {
		args[k] = v
	}
	if _, ok := args["name"]; !ok {
		args["name"] = s.Name
	}
	return &module.Call{
		ID:       s.ID,
		SLS:      s.SLS,
		Function: s.Function,
		Name:     s.Name,
		Args:     args,
		Test:     test,
		Target:   e.opts.Target,
		// Full slice expression: the call sees the states so far, and
		// later appends cannot show through.
		Upstream: e.upstream[:len(e.upstream):len(e.upstream)],
	}
}

// timeout is the bound for s: its own, else the default.
func (e *executor) timeout(s *state.State) time.Duration {
	if s.Timeout > 0 {
		return s.Timeout
	}
	return e.opts.DefaultTimeout
}

func (e *executor) stateContext(ctx context.Context, s *state.State) (context.Context, context.CancelFunc) {
	if t := e.timeout(s); t > 0 {
		return context.WithTimeout(ctx, t)
	}
	return context.WithCancel(ctx)
}
