// Package conformance is the suite every state module passes, built-in or
// plugin alike: its specs are well formed, Validate rejects bad arguments,
// Plan makes no change, a converged system plans no change, and apply
// then plan is a no-op. A module's test builds a Case for a fresh system
// and calls Run.
package conformance

import (
	"context"
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/statectl/statectl/runner/module"
)

// Case describes one module under test on a system it may change.
type Case struct {
	Module module.Module
	// Target is handed to every call (grains, pillar, state root).
	Target *module.Target
	// Steps take a fresh system to the wanted state, in order. Each must
	// change something unless marked Converged.
	Steps []Step
	// Invalid are calls the schema or Validate must reject.
	Invalid []Step
	// Snapshot returns the observable state of the system (files, the
	// cluster's config): Plan must never change it.
	Snapshot func(t testing.TB) string
	// Stale, if set, changes the system behind the module's back between
	// Plan and Apply of Steps[0]; Apply must then refuse (fail or error)
	// instead of overwriting the change.
	Stale func(t testing.TB)
	// Timeout bounds each call; 0 means 30s.
	Timeout time.Duration
}

// Step is one state call.
type Step struct {
	Function string
	Args     map[string]any // "name" included
	// Converged marks a step that changes nothing even on a fresh system.
	Converged bool
}

func (s Step) String() string { return fmt.Sprintf("%s(%v)", s.Function, s.Args["name"]) }

// Run runs the suite. Subtests run in order and share the system: Steps
// are applied once.
func Run(t *testing.T, c Case) {
	t.Helper()
	if c.Snapshot == nil {
		c.Snapshot = func(testing.TB) string { return "" }
	}
	if c.Timeout == 0 {
		c.Timeout = 30 * time.Second
	}
	specs := map[string]module.FuncSpec{}
	t.Run("specs", func(t *testing.T) {
		if c.Module.Name() == "" {
			t.Fatal("module has no name")
		}
		for _, f := range c.Module.Functions() {
			if _, dup := specs[f.Name]; dup {
				t.Errorf("function %s listed twice", f.Name)
			}
			specs[f.Name] = f
			if f.Doc == "" {
				t.Errorf("function %s has no doc", f.Name)
			}
			seen := map[string]bool{}
			for _, a := range f.Args {
				if seen[a.Name] {
					t.Errorf("%s: argument %s listed twice", f.Name, a.Name)
				}
				seen[a.Name] = true
				if a.Doc == "" {
					t.Errorf("%s: argument %s has no doc", f.Name, a.Name)
				}
				if !a.Type.Known() {
					t.Errorf("%s: argument %s has unknown type %q", f.Name, a.Name, a.Type)
				}
				if a.Default != nil && !a.Type.Accepts(a.Default) {
					t.Errorf("%s: argument %s: default %v is not a %s", f.Name, a.Name, a.Default, a.Type)
				}
			}
		}
		if len(specs) == 0 {
			t.Fatal("module serves no functions")
		}
	})
	t.Run("validate", func(t *testing.T) {
		for _, s := range c.Steps {
			if err := c.check(specs, s); err != nil {
				t.Errorf("valid step %s rejected: %v", s, err)
			}
		}
		if len(c.Invalid) == 0 {
			t.Error("no invalid calls given: the suite must see Validate reject something")
		}
		for _, s := range c.Invalid {
			if err := c.check(specs, s); err == nil {
				t.Errorf("invalid step %s accepted", s)
			}
		}
	})
	t.Run("converge", func(t *testing.T) {
		if len(c.Steps) == 0 {
			t.Fatal("no steps")
		}
		for i, s := range c.Steps {
			plan := c.plan(t, s, true)
			if s.Converged != (len(plan.Changes) == 0) {
				t.Fatalf("step %s on a fresh system: plan changes %v, want converged=%t", s, plan.Changes, s.Converged)
			}
			if plan.Fail {
				t.Fatalf("step %s: plan predicts failure: %s", s, plan.Comment)
			}
			if s.Converged {
				continue
			}
			plan = c.plan(t, s, false)
			if i == 0 && c.Stale != nil {
				c.Stale(t)
				out, err := c.apply(s, plan)
				if err == nil && !out.Failed {
					t.Fatalf("step %s: apply of a stale plan succeeded (%s); it must refuse", s, out.Comment)
				}
				plan = c.plan(t, s, false)
			}
			out, err := c.apply(s, plan)
			if err != nil {
				t.Fatalf("step %s: apply: %v", s, err)
			}
			if out.Failed {
				t.Fatalf("step %s: apply failed: %s", s, out.Comment)
			}
			if again := c.plan(t, s, false); len(again.Changes) > 0 || again.Fail {
				t.Fatalf("step %s: plan after apply is not a no-op: changes %v, fail %t: %s", s, again.Changes, again.Fail, again.Comment)
			}
		}
	})
	t.Run("converged", func(t *testing.T) {
		for _, s := range c.Steps {
			for _, test := range []bool{true, false} {
				if p := c.plan(t, s, test); len(p.Changes) > 0 || p.Fail {
					t.Errorf("step %s (test=%t) on the converged system: changes %v, fail %t: %s", s, test, p.Changes, p.Fail, p.Comment)
				}
			}
		}
	})
}

// check validates a call as compile does: schema, then the module.
func (c *Case) check(specs map[string]module.FuncSpec, s Step) error {
	f, ok := specs[s.Function]
	if !ok {
		return fmt.Errorf("unknown function %s", s.Function)
	}
	for _, a := range f.Args {
		if _, set := s.Args[a.Name]; a.Required && a.Name != "name" && !set {
			return fmt.Errorf("missing required argument %s", a.Name)
		}
	}
	for k, v := range s.Args {
		a, ok := f.Arg(k)
		if !ok && k != "name" {
			return fmt.Errorf("unknown argument %s", k)
		}
		if ok && v != nil && !a.Type.Accepts(v) {
			return fmt.Errorf("argument %s must be %s", k, a.Type)
		}
	}
	return c.Module.Validate(c.call(s, false))
}

func (c *Case) call(s Step, test bool) *module.Call {
	name, _ := s.Args["name"].(string)
	return &module.Call{ID: name, SLS: "conformance", Function: s.Function, Name: name,
		Args: maps.Clone(s.Args), Test: test, Target: c.Target}
}

// plan plans s and fails the test if the plan changed the system.
func (c *Case) plan(t *testing.T, s Step, test bool) *module.Plan {
	t.Helper()
	before := c.Snapshot(t)
	ctx, cancel := context.WithTimeout(context.Background(), c.Timeout)
	defer cancel()
	p, err := c.Module.Plan(ctx, c.call(s, test))
	if err != nil {
		t.Fatalf("step %s: plan (test=%t): %v", s, test, err)
	}
	if p == nil {
		t.Fatalf("step %s: plan (test=%t) returned no plan", s, test)
	}
	if after := c.Snapshot(t); after != before {
		t.Fatalf("step %s: plan (test=%t) changed the system:\nbefore: %s\nafter:  %s", s, test, before, after)
	}
	return p
}

func (c *Case) apply(s Step, p *module.Plan) (*module.Outcome, error) {
	ctx, cancel := context.WithTimeout(context.Background(), c.Timeout)
	defer cancel()
	out, err := c.Module.Apply(ctx, c.call(s, false), p)
	if err == nil && out == nil {
		err = fmt.Errorf("no outcome")
	}
	return out, err
}
