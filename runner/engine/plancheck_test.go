package engine_test

import (
	"context"
	"errors"
	"testing"

	"github.com/statectl/statectl/runner/engine"
	"github.com/statectl/statectl/runner/module"
	"github.com/statectl/statectl/runner/state"
)

// TestPlanCheck: the hook sees every plan with the results before it, can
// refuse a plan (the state fails, nothing is applied) and can replace one.
func TestPlanCheck(t *testing.T) {
	f := newFake("fake")
	reg := module.NewRegistry(f)
	c := build(t,
		st{id: "A", args: map[string]any{"changes": true}},
		st{id: "B", args: map[string]any{"changes": true}},
		st{id: "C", args: map[string]any{}},
	)
	var seen []string
	var priors []int
	run := engine.Execute(context.Background(), c, reg, engine.Options{
		PlanCheck: func(s *state.State, p *module.Plan, prior []*state.Result) (*module.Plan, error) {
			seen = append(seen, s.ID)
			priors = append(priors, len(prior))
			switch s.ID {
			case "B":
				return nil, errors.New("plan is stale: B changed")
			case "C":
				// Replace a converged plan by one with changes: Apply runs.
				return &module.Plan{Changes: map[string]any{"x": map[string]any{"old": 1, "new": 2}}}, nil
			}
			return p, nil
		},
	})
	if got := len(run.Results); got != 3 {
		t.Fatalf("%d results", got)
	}
	if r := run.Results[1]; !r.Failed() || r.Comment != "plan is stale: B changed" {
		t.Errorf("B: %s %q", resultString(r), r.Comment)
	}
	if n := f.counts("B"); n.plan != 1 || n.apply != 0 {
		t.Errorf("B: plan/apply = %d/%d, want 1/0", n.plan, n.apply)
	}
	if n := f.counts("C"); n.apply != 1 {
		t.Errorf("C: apply = %d, want 1 (replaced plan)", n.apply)
	}
	if len(seen) != 3 || priors[0] != 0 || priors[1] != 1 || priors[2] != 2 {
		t.Errorf("seen %v with priors %v", seen, priors)
	}
}
