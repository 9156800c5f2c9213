package engine

import (
	"context"
	"strings"

	"github.com/statectl/statectl/runner/state"
)

// reqKind is what a state's requisites decide before its module is called.
type reqKind int

const (
	reqRun       reqKind = iota // all met: call the module
	reqFail                     // a requisite failed: result False
	reqOnFail                   // no onfail requisite failed: result True, not run
	reqOnChanges                // no onchanges requisite changed: result True, not run
)

// Salt's comments, which users grep for.
const (
	commentOnFail    = "State was not run because onfail req did not change"
	commentOnChanges = "State was not run because none of the onchanges reqs changed"
	commentNoChanges = "No changes detected"
)

type reqStatus struct {
	kind    reqKind
	comment string
	// watchFired: a watched state changed, so mod_watch runs.
	watchFired bool
}

// check evaluates the requisites of state i against the results so far
// (predicted ones in test mode). Prereq edges are left to prereqMet.
//
// predicting is set when i is planned early for a prereq: its requisites
// that have not run yet may still be met, so they are assumed to be.
func (e *executor) check(i int, predicting bool) reqStatus {
	s := e.c.States[i]
	var failed, notRun refs
	var hasOnFail, onFailMet, hasOnChanges, onChangesMet, watchFired bool
	for _, d := range s.Deps {
		if d.Kind == state.Prereq {
			continue
		}
		if !valid(e.c, d.Index) || d.Index == i {
			failed.add("<invalid requisite>")
			continue
		}
		dep := e.c.States[d.Index]
		r := e.results[d.Index]
		switch d.Kind {
		case state.OnFail:
			hasOnFail = true
			if (r == nil && predicting) || (r != nil && r.Failed()) {
				onFailMet = true
			}
			continue
		case state.OnChanges:
			hasOnChanges = true
		}
		if r == nil {
			if predicting {
				onChangesMet = onChangesMet || d.Kind == state.OnChanges
				continue
			}
			// Only reachable for a failhard onfail handler whose other
			// requisites were cut off by the stop.
			notRun.add(ref(dep))
			continue
		}
		if r.Failed() {
			failed.add(ref(dep))
			continue
		}
		if r.Changed() {
			switch d.Kind {
			case state.OnChanges:
				onChangesMet = true
			case state.Watch:
				watchFired = true
			}
		}
	}
	// The implicit prereq_in: a state whose prereq-er failed does not run.
	for _, x := range e.prereqBy[i] {
		if r := e.results[x]; r != nil && r.Failed() {
			failed.add(ref(e.c.States[x]))
		}
	}
	switch {
	case len(failed) > 0:
		return reqStatus{kind: reqFail, comment: "One or more requisite failed: " + failed.String()}
	case len(notRun) > 0:
		return reqStatus{kind: reqFail, comment: "One or more requisite was not run: " + notRun.String()}
	case hasOnFail && !onFailMet:
		return reqStatus{kind: reqOnFail, comment: commentOnFail}
	case hasOnChanges && !onChangesMet:
		return reqStatus{kind: reqOnChanges, comment: commentOnChanges}
	}
	return reqStatus{kind: reqRun, watchFired: watchFired}
}

// prediction is what a prereq target would do if it ran now.
type prediction int

const (
	predNone prediction = iota
	predChange
	predFail
)

// prereqMet decides whether state i, which prereqs other states, runs: only
// if one of them would change now. Otherwise the comment says why not.
func (e *executor) prereqMet(ctx context.Context, i int) (bool, string) {
	var has bool
	var wouldFail refs
	for _, d := range e.c.States[i].Deps {
		if d.Kind != state.Prereq {
			continue
		}
		has = true
		if !valid(e.c, d.Index) || d.Index == i {
			wouldFail.add("<invalid requisite>")
			continue
		}
		switch e.predict(ctx, d.Index) {
		case predChange:
			return true, ""
		case predFail:
			wouldFail.add(ref(e.c.States[d.Index]))
		}
	}
	if !has {
		return true, ""
	}
	if len(wouldFail) > 0 {
		return false, "State was not run because its prereq would fail: " + wouldFail.String()
	}
	return false, commentNoChanges
}

// predict plans state y ahead of its turn (Salt runs it with test=True).
// Nothing is recorded: y plans again at its own turn.
func (e *executor) predict(ctx context.Context, y int) prediction {
	if r := e.results[y]; r != nil { // ordered before its prereq-er: not by the compiler
		switch {
		case r.Failed():
			return predFail
		case r.Changed():
			return predChange
		}
		return predNone
	}
	switch e.check(y, true).kind {
	case reqFail:
		return predFail
	case reqOnFail, reqOnChanges:
		return predNone
	}
	s := e.c.States[y]
	f := e.lookup(s)
	if !f.ok {
		return predFail
	}
	sctx, cancel := e.stateContext(ctx, s)
	defer cancel()
	plan, err := guard(sctx, 0, func(ctx context.Context) (planT, error) {
		return f.mod.Plan(ctx, e.call(s, true))
	})
	switch {
	case err != nil || plan == nil || plan.Fail:
		return predFail
	case len(plan.Changes) > 0:
		return predChange
	}
	return predNone
}

// refs lists requisites as Salt names them (sls.id), once each, in
// requisite order.
type refs []string

func (r *refs) add(s string) {
	for _, x := range *r {
		if x == s {
			return
		}
	}
	*r = append(*r, s)
}

func (r refs) String() string { return strings.Join(r, ", ") }

func ref(s *state.State) string {
	if s.SLS == "" {
		return s.ID
	}
	return s.SLS + "." + s.ID
}
