package engine_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/statectl/statectl/runner/module"
	"github.com/statectl/statectl/runner/state"
)

// fake is an in-memory module whose behaviour each state sets through its
// arguments, counting the calls the engine makes per state ID:
//
//	changes: bool      plan predicts a change and apply reports it
//	fail: bool         plan predicts a failure and apply fails
//	apply_fail: bool   plan is clean but apply fails
//	plan_error/apply_error: string  the call returns that error
//	panic: plan|apply|mod_watch     the call panics
//	block: plan|apply  the call waits for its context to end
//	cleanup: apply     the call returns its outcome 200 ms after its context ended
//	hang: plan         the call ignores its context and sleeps
//	converge: bool     plan reads a store that apply writes (idempotence)
//	password: string   a Secret argument; echo: true quotes it in the output
//	quote: string      copied into the comment (to leak another's secret)
//	send: string       plan action join, sending {v: send} to later states
//	defer: string      plan deferred with that reason
type fake struct {
	name string
	mu   sync.Mutex
	n    map[string]*counts
	// store is the "live system" of converge states.
	store map[string]bool
	// calls records every call's Test flag and Args, in order.
	calls []*module.Call
}

type counts struct{ plan, apply, watch int }

func newFake(name string) *fake {
	return &fake{name: name, n: map[string]*counts{}, store: map[string]bool{}}
}

func (f *fake) Name() string { return f.name }

func (f *fake) Functions() []module.FuncSpec {
	return []module.FuncSpec{{Name: "run", Doc: "test double", Args: []module.ArgSpec{
		{Name: "name", Type: module.TypeString},
		{Name: "password", Type: module.TypeString, Secret: true},
		{Name: "pins", Type: module.TypeList, Secret: true},
	}}}
}

func (f *fake) Validate(*module.Call) error { return nil }

func (f *fake) count(call *module.Call, bump func(*counts)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.n[call.ID]
	if c == nil {
		c = &counts{}
		f.n[call.ID] = c
	}
	bump(c)
	f.calls = append(f.calls, call)
}

func (f *fake) counts(id string) counts {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c := f.n[id]; c != nil {
		return *c
	}
	return counts{}
}

func (f *fake) behave(ctx context.Context, call *module.Call, phase string) error {
	a := call.Args
	if a["panic"] == phase {
		panic(fmt.Sprintf("boom in %s of %v", phase, a["password"]))
	}
	if a["block"] == phase {
		<-ctx.Done()
		return fmt.Errorf("failed to %s %s: %w", phase, call.ID, ctx.Err())
	}
	if a["cleanup"] == phase {
		// Ends its work after ctx, cleaning up on a context of its own.
		<-ctx.Done()
		time.Sleep(200 * time.Millisecond)
		return nil
	}
	if a["hang"] == phase {
		time.Sleep(5 * time.Second) // ignores ctx: the engine must not wait
	}
	if msg, ok := a[phase+"_error"].(string); ok {
		return fmt.Errorf("%s", msg)
	}
	return nil
}

func (f *fake) Plan(ctx context.Context, call *module.Call) (*module.Plan, error) {
	f.count(call, func(c *counts) { c.plan++ })
	if err := f.behave(ctx, call, "plan"); err != nil {
		return nil, err
	}
	a := call.Args
	p := &module.Plan{Comment: "plan of " + call.ID, Fail: a["fail"] == true}
	switch {
	case a["converge"] == true:
		f.mu.Lock()
		done := f.store[call.ID]
		f.mu.Unlock()
		if !done {
			p.Changes = map[string]any{"present": map[string]any{"old": false, "new": true}}
		} else {
			p.Comment = call.ID + " is in the desired state"
		}
	case a["changes"] == true:
		p.Changes = map[string]any{"thing": map[string]any{"old": "a", "new": "b"}}
	}
	if a["echo"] == true {
		p.Comment += " pw=" + fmt.Sprint(a["password"])
	}
	if q, ok := a["quote"].(string); ok {
		p.Comment += " " + q
	}
	if v, ok := a["send"].(string); ok {
		p.Action, p.Send = module.Join, map[string]string{"v": v}
	}
	if why, ok := a["defer"].(string); ok {
		p.Deferred = why
	}
	return p, nil
}

func (f *fake) Apply(ctx context.Context, call *module.Call, plan *module.Plan) (*module.Outcome, error) {
	f.count(call, func(c *counts) { c.apply++ })
	if err := f.behave(ctx, call, "apply"); err != nil {
		return nil, err
	}
	a := call.Args
	o := &module.Outcome{Changes: plan.Changes, Comment: "applied " + call.ID}
	if a["fail"] == true || a["apply_fail"] == true {
		o.Failed = true
		o.Comment = "failed " + call.ID
	}
	if a["converge"] == true {
		f.mu.Lock()
		f.store[call.ID] = true
		f.mu.Unlock()
	}
	if a["echo"] == true {
		o.Comment += " pw=" + fmt.Sprint(a["password"])
		o.Changes = map[string]any{
			"password":                          map[string]any{"old": nil, "new": a["password"]},
			"note " + fmt.Sprint(a["password"]): []any{"set to " + fmt.Sprint(a["password"])},
			"typed":                             map[string]string{"k": fmt.Sprint(a["password"])},
		}
	}
	return o, nil
}

// watcher is fake with mod_watch.
type watcher struct{ *fake }

func (w watcher) ModWatch(ctx context.Context, call *module.Call, test bool) (*module.Outcome, error) {
	w.count(call, func(c *counts) { c.watch++ })
	if err := w.behave(ctx, call, "mod_watch"); err != nil {
		return nil, err
	}
	return &module.Outcome{
		Changes: map[string]any{"restarted": map[string]any{"old": false, "new": true}},
		Comment: fmt.Sprintf("mod_watch of %s (test=%v)", call.ID, test),
	}, nil
}

// st declares a state for build. mod defaults to "fake", fn to "run".
type st struct {
	id, mod, fn string
	args        map[string]any
	req         map[state.ReqKind][]string
	failhard    bool
	timeout     time.Duration
}

// build resolves requisites by ID, in declaration order, as the compiler
// would (declaration order is execution order here).
func build(t testing.TB, decl ...st) *state.Compiled {
	t.Helper()
	idx := map[string]int{}
	for i, d := range decl {
		idx[d.id] = i
	}
	c := &state.Compiled{}
	for _, d := range decl {
		s := &state.State{
			ID: d.id, Name: d.id, SLS: "s", Module: d.mod, Function: d.fn,
			Args: map[string]any{"name": d.id}, Failhard: d.failhard, Timeout: d.timeout,
		}
		if s.Module == "" {
			s.Module = "fake"
		}
		if s.Function == "" {
			s.Function = "run"
		}
		for k, v := range d.args {
			s.Args[k] = v
		}
		for _, kind := range []state.ReqKind{state.Require, state.Watch, state.OnChanges, state.OnFail, state.Prereq} {
			for _, ref := range d.req[kind] {
				j, ok := idx[ref]
				if !ok {
					t.Fatalf("state %s: unknown requisite %s", d.id, ref)
				}
				s.Deps = append(s.Deps, state.Edge{Kind: kind, Index: j})
			}
		}
		c.States = append(c.States, s)
	}
	return c
}

// tick is a deterministic clock: each call is 1ms after the previous one.
func tick() func() time.Time {
	t := time.Date(2025, 1, 2, 10, 15, 1, 0, time.UTC)
	var mu sync.Mutex
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Millisecond)
		return t
	}
}
