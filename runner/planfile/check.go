package planfile

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"github.com/statectl/statectl/runner/module"
	"github.com/statectl/statectl/runner/state"
)

// StaleError lists why a saved plan no longer holds.
type StaleError struct {
	Reasons []string
}

func (e *StaleError) Error() string {
	return "plan is stale; plan again: " + strings.Join(e.Reasons, "; ")
}

// Checker is phase 1 for one target: use Check as the PlanCheck of a test
// run, then Stale for what differed.
type Checker struct {
	t       *Target
	byTag   map[string]*State
	seen    map[string]bool
	reasons []string
}

// NewChecker checks fresh plans of target t against its saved plan.
func NewChecker(t *Target) *Checker {
	c := &Checker{t: t, byTag: index(t), seen: map[string]bool{}}
	return c
}

func index(t *Target) map[string]*State {
	m := make(map[string]*State, len(t.States))
	for _, s := range t.States {
		m[s.Tag] = s
	}
	return m
}

// Check compares one fresh plan with the saved one; it never fails the
// state (the test run only gathers differences).
func (c *Checker) Check(s *state.State, p *module.Plan, _ []*state.Result) (*module.Plan, error) {
	tag := s.Tag()
	c.seen[tag] = true
	old, ok := c.byTag[tag]
	fresh := saved(s, p)
	switch {
	case !ok:
		c.reasons = append(c.reasons, fmt.Sprintf("%s: %s is planned now but not in the saved plan", c.t.Target, s.ID))
	case !same(old, fresh):
		c.reasons = append(c.reasons, fmt.Sprintf("%s: %s changed since it was planned (%s)", c.t.Target, s.ID, what(old, fresh)))
	}
	return p, nil
}

// Stale returns the differences found, or nil.
func (c *Checker) Stale() []string {
	out := append([]string{}, c.reasons...)
	for _, s := range c.t.States {
		if !c.seen[s.Tag] {
			out = append(out, fmt.Sprintf("%s: %s was planned but is not planned now", c.t.Target, s.ID))
		}
	}
	return out
}

// what says how a fresh plan differs from the saved one.
func what(old, fresh *State) string {
	var parts []string
	if old.Fail != fresh.Fail {
		parts = append(parts, "predicted failure")
	}
	if canonical(old.Changes) != canonical(fresh.Changes) {
		parts = append(parts, fmt.Sprintf("changes %s -> %s", strings.Join(changeKeys(old.Changes), ","), strings.Join(changeKeys(fresh.Changes), ",")))
	}
	if !bytes.Equal(compact(old.Private), compact(fresh.Private)) {
		parts = append(parts, "live object changed (ETag)")
	}
	return strings.Join(parts, ", ")
}

// Applier is phase 2 for one target: use Check as the PlanCheck of the
// apply run.
type Applier struct {
	t     *Target
	byTag map[string]*State
	// Earlier is set when an earlier target of the same plan changed
	// something: a cluster-wide setting planned for every member is
	// written by the first and is converged for the others, which is not
	// staleness.
	Earlier bool
}

// NewApplier applies target t's saved plan.
func NewApplier(t *Target) *Applier { return &Applier{t: t, byTag: index(t)} }

// Check accepts a fresh plan that equals the saved one; after an earlier
// state changed something, also one that is converged or changes only keys
// the saved plan changed. Anything else fails the state.
func (a *Applier) Check(s *state.State, p *module.Plan, prior []*state.Result) (*module.Plan, error) {
	old := a.byTag[s.Tag()]
	fresh := saved(s, p)
	if old != nil && same(old, fresh) {
		return p, nil
	}
	converged := len(p.Changes) == 0 && !p.Fail
	if !a.Earlier && !changedBefore(prior) {
		if old == nil && converged {
			return p, nil
		}
		return nil, fmt.Errorf("plan is stale; plan again: %s changed since the saved plan was checked", s.ID)
	}
	if converged {
		return p, nil
	}
	if old != nil && !p.Fail && subset(changeKeys(p.Changes), changeKeys(old.Changes)) {
		return p, nil
	}
	return nil, fmt.Errorf("plan is stale; plan again: after earlier changes in this run, %s would change %s, beyond the saved plan",
		s.ID, strings.Join(changeKeys(p.Changes), ", "))
}

func changedBefore(prior []*state.Result) bool {
	for _, r := range prior {
		if r.Changed() {
			return true
		}
	}
	return false
}

func subset(a, b []string) bool {
	for _, x := range a {
		i := sort.SearchStrings(b, x)
		if i == len(b) || b[i] != x {
			return false
		}
	}
	return true
}
