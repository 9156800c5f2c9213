package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/statectl/statectl/runner/module"
	"github.com/statectl/statectl/runner/state"
)

type planT = *module.Plan

// verdict is a state's outcome before it becomes a state.Result.
type verdict struct {
	result  *bool
	changes map[string]any
	comment string
	action  module.Action
	send    map[string]string
}

func (v verdict) failed() bool { return v.result != nil && !*v.result }

func failed(comment string) verdict {
	return verdict{result: state.Bool(false), comment: comment}
}

// runState runs state i and records its result.
func (e *executor) runState(ctx context.Context, i int) *state.Result {
	s := e.c.States[i]
	if obs := e.opts.Observer; obs != nil {
		obs.StateStarted(s)
	}
	start := e.now()
	v := e.evaluate(ctx, i)
	r := &state.Result{
		Tag:       e.secrets.String(s.Tag()),
		ID:        s.ID,
		SLS:       s.SLS,
		Name:      e.secrets.String(s.Name),
		Module:    s.Module,
		Function:  s.Function,
		Result:    v.result,
		Changes:   e.changes(v.changes),
		Comment:   e.secrets.String(v.comment),
		StartTime: start,
		Duration:  e.now().Sub(start),
		Action:    string(v.action),
		Send:      v.send,
	}
	e.results[i] = r
	return r
}

// evaluate decides state i: requisites, then Plan, then (unless test mode or
// converged) Apply, then mod_watch if a watched state changed.
func (e *executor) evaluate(ctx context.Context, i int) verdict {
	s := e.c.States[i]
	f := e.lookup(s)
	if !f.ok {
		return failed(fmt.Sprintf("State '%s.%s' was not found in SLS '%s'", s.Module, s.Function, s.SLS))
	}
	st := e.check(i, false)
	switch st.kind {
	case reqFail:
		return failed(st.comment)
	case reqOnFail, reqOnChanges:
		return verdict{result: state.Bool(true), comment: st.comment}
	}
	if ok, comment := e.prereqMet(ctx, i); !ok {
		return verdict{result: state.Bool(true), comment: comment}
	}

	sctx, cancel := e.stateContext(ctx, s)
	defer cancel()
	call := e.call(s, e.opts.Test)
	plan, err := guard(sctx, 0, func(ctx context.Context) (planT, error) { return f.mod.Plan(ctx, call) })
	if err != nil {
		if why := e.deferral(i, e.errComment(ctx, sctx, s, "plan", err)); why != "" && ctx.Err() == nil && sctx.Err() == nil {
			return verdict{comment: why}
		}
		return failed(e.errComment(ctx, sctx, s, "plan", err))
	}
	if plan == nil {
		return failed(fmt.Sprintf("Module %s returned no plan", s.Module))
	}
	if plan.Action == "" && !plan.Fail {
		plan.Action = module.NoOp
		if len(plan.Changes) > 0 {
			plan.Action = module.Update
		}
	}
	if e.opts.PlanCheck != nil {
		if plan, err = e.opts.PlanCheck(s, plan, e.prior()); err != nil {
			return failed(err.Error())
		}
		if plan == nil {
			return failed("Plan check returned no plan")
		}
	}

	var v verdict
	switch {
	case e.opts.Test && plan.Deferred != "":
		// Not a prediction: None, with what it waits for.
		v = verdict{changes: plan.Changes, comment: plan.Deferred, action: plan.Action, send: plan.Send}
	case e.opts.Test:
		v = verdict{changes: plan.Changes, comment: plan.Comment, action: plan.Action, send: plan.Send}
		switch {
		case plan.Fail:
			if why := e.deferral(i, plan.Comment); why != "" {
				return verdict{comment: why, action: plan.Action}
			}
			v.result = state.Bool(false)
		case len(plan.Changes) == 0:
			v.result = state.Bool(true)
		} // else None: would change
	case len(plan.Changes) == 0 && !plan.Fail:
		// Converged: no Apply, so an idempotent re-run makes zero writes.
		v = verdict{result: state.Bool(true), comment: plan.Comment, action: plan.Action, send: plan.Send}
	default:
		out, err := guard(sctx, applyGrace, func(ctx context.Context) (*module.Outcome, error) { return f.mod.Apply(ctx, call, plan) })
		if err != nil {
			return failed(e.errComment(ctx, sctx, s, "apply", err))
		}
		if out == nil {
			return failed(fmt.Sprintf("Module %s returned no outcome from apply", s.Module))
		}
		v = verdict{result: state.Bool(!out.Failed), changes: out.Changes, comment: out.Comment, action: plan.Action, send: plan.Send}
	}

	if w, ok := f.mod.(module.Watcher); ok && st.watchFired && !v.failed() {
		v = e.modWatch(ctx, sctx, s, w, call, v)
	}
	return v
}

// modWatch calls the module's mod_watch and merges what it did into v.
func (e *executor) modWatch(ctx, sctx context.Context, s *state.State, w module.Watcher, call *module.Call, v verdict) verdict {
	out, err := guard(sctx, applyGrace, func(ctx context.Context) (*module.Outcome, error) { return w.ModWatch(ctx, call, e.opts.Test) })
	if err == nil && out == nil {
		err = fmt.Errorf("module %s returned no outcome from mod_watch", s.Module)
	}
	if err != nil {
		v.result = state.Bool(false)
		v.comment = joinComment(v.comment, e.errComment(ctx, sctx, s, "mod_watch", err))
		return v
	}
	if len(out.Changes) > 0 {
		merged := make(map[string]any, len(v.changes)+len(out.Changes))
		for k, x := range v.changes {
			merged[k] = x
		}
		for k, x := range out.Changes {
			merged[k] = x
		}
		v.changes = merged
	}
	v.comment = joinComment(v.comment, out.Comment)
	switch {
	case out.Failed:
		v.result = state.Bool(false)
	case e.opts.Test && len(v.changes) > 0:
		v.result = nil
	}
	return v
}

func joinComment(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "\n" + b
}

// errComment turns a module call error into the state's comment, naming
// timeouts, interrupts and panics plainly.
func (e *executor) errComment(parent, sctx context.Context, s *state.State, phase string, err error) string {
	var p *panicError
	switch {
	case errors.As(err, &p):
		return fmt.Sprintf("Module %s panicked during %s: %v", s.Module, phase, p.value)
	case parent.Err() != nil:
		return fmt.Sprintf("State was interrupted during %s: %v", phase, parent.Err())
	case errors.Is(sctx.Err(), context.DeadlineExceeded):
		return fmt.Sprintf("State timed out after %s during %s", e.timeout(s), phase)
	}
	if msg := err.Error(); msg != "" {
		return msg
	}
	return fmt.Sprintf("Module %s failed during %s", s.Module, phase)
}

// panicError carries a module panic out of its goroutine.
type panicError struct{ value any }

func (p *panicError) Error() string { return fmt.Sprintf("panic: %v", p.value) }

// applyGrace is how long an apply (or mod_watch) may still run after its
// context ended: a module that wrote something cleans up on a context of
// its own (the incus module revokes a join token and re-reads membership
// within 5 s), and the run must not end, nor the process exit, under it.
// Plans only read: they are abandoned at once.
const applyGrace = 8 * time.Second

// guard calls fn in its own goroutine so that a panic fails only this state
// and a module ignoring ctx cannot hold the run past its timeout (plus
// grace): when ctx ends first, guard waits up to grace for fn, whose
// result then wins, and otherwise returns ctx.Err() and abandons the call.
func guard[T any](ctx context.Context, grace time.Duration, fn func(context.Context) (T, error)) (T, error) {
	type ret struct {
		v   T
		err error
	}
	ch := make(chan ret, 1) // buffered: an abandoned call must not leak blocked
	go func() {
		defer func() {
			if p := recover(); p != nil {
				ch <- ret{err: &panicError{value: p}}
			}
		}()
		v, err := fn(ctx)
		ch <- ret{v: v, err: err}
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		t := time.NewTimer(grace) // a call that finished in time wins the tie
		defer t.Stop()
		select {
		case r := <-ch:
			return r.v, r.err
		case <-t.C:
		}
		var zero T
		return zero, ctx.Err()
	}
}

// prior lists the results recorded so far, in run order.
func (e *executor) prior() []*state.Result {
	var out []*state.Result
	for _, r := range e.results {
		if r != nil {
			out = append(out, r)
		}
	}
	return out
}

// deferral is test mode's reason for deferring state i, whose plan fails
// while a state it depends on would change first (Salt #14745: a member
// cannot be planned against a cluster that the run has yet to create). Its
// plan read a system the run would have changed by then, so the failure is
// not a prediction: the result is None and the reason says what it waits
// for. "" when the failure stands.
func (e *executor) deferral(i int, why string) string {
	if !e.opts.Test {
		return ""
	}
	var pending []string
	for _, d := range e.c.States[i].Deps {
		if d.Kind == state.OnFail || d.Kind == state.Prereq {
			continue
		}
		if r := e.results[d.Index]; r != nil && r.Result == nil {
			pending = append(pending, r.ID)
		}
	}
	if len(pending) == 0 {
		return ""
	}
	return fmt.Sprintf("Cannot be predicted until %s would have changed; planned against the current system: %s",
		strings.Join(pending, ", "), why)
}

// Upstream turns a target's results into what later states see of them
// (module.Call.Upstream).
func Upstream(target string, results []*state.Result) []module.Upstream {
	out := make([]module.Upstream, 0, len(results))
	for _, r := range results {
		if r == nil {
			continue
		}
		st := module.Unchanged
		switch {
		case r.Result == nil:
			st = module.Pending
		case !*r.Result:
			st = module.Failed
		case r.Changed():
			st = module.Applied
		}
		out = append(out, module.Upstream{Target: target, ID: r.ID, Module: r.Module, Function: r.Function,
			Name: r.Name, Action: module.Action(r.Action), Status: st, Send: r.Send})
	}
	return out
}
