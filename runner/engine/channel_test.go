package engine_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/statectl/statectl/runner/engine"
	"github.com/statectl/statectl/runner/module"
)

// The engine is the only channel between states: each call sees what the
// states before it planned or did (action, status, what they sent), and
// the earlier targets' records given in Options.Upstream.
func TestUpstreamChannel(t *testing.T) {
	for _, tc := range []struct {
		name string
		test bool
		want []module.Status
	}{
		{"apply", false, []module.Status{module.Applied, module.Unchanged, module.Failed}},
		{"test mode", true, []module.Status{module.Pending, module.Unchanged, module.Failed}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake("fake")
			c := build(t,
				st{id: "A", args: map[string]any{"changes": true, "send": "x"}},
				st{id: "B"},
				st{id: "C", args: map[string]any{"fail": true}},
				st{id: "D"},
			)
			earlier := []module.Upstream{{Target: "node1", ID: "Z", Module: "fake", Function: "run", Name: "Z", Status: module.Applied}}
			run := engine.Execute(context.Background(), c, module.NewRegistry(f), engine.Options{
				Test: tc.test, Target: &module.Target{Name: "node2"}, Upstream: earlier})
			var d *module.Call
			for _, call := range f.calls {
				if call.ID == "D" {
					d = call
				}
			}
			if d == nil {
				t.Fatal("D was not planned")
			}
			if len(d.Upstream) != 4 || d.Upstream[0].ID != "Z" {
				t.Fatalf("D saw %+v, want Z then A, B, C", d.Upstream)
			}
			for i, u := range d.Upstream[1:] {
				if u.Target != "node2" || u.Status != tc.want[i] {
					t.Errorf("upstream %s: target %s status %s, want node2 %s", u.ID, u.Target, u.Status, tc.want[i])
				}
			}
			a := d.Upstream[1]
			if a.Action != module.Join || !reflect.DeepEqual(a.Send, map[string]string{"v": "x"}) {
				t.Errorf("A sent %s %v, want join {v: x}", a.Action, a.Send)
			}
			if b := d.Upstream[2]; b.Action != module.NoOp {
				t.Errorf("B's action = %q, want the derived no-op", b.Action)
			}
			// The first call sees only the earlier targets.
			for _, call := range f.calls {
				if call.ID == "A" && len(call.Upstream) != 1 {
					t.Errorf("A saw %+v, want only Z", call.Upstream)
				}
			}
			if got := engine.Upstream("node2", run.Results); len(got) != 4 {
				t.Errorf("Upstream of the run: %d records, want 4", len(got))
			}
		})
	}
}

// A deferred plan is not a prediction: None in test mode with its reason;
// an apply acts on the plan as usual.
func TestDeferredPlan(t *testing.T) {
	f := newFake("fake")
	c := build(t, st{id: "A", args: map[string]any{"changes": true, "defer": "waits for node1 to bootstrap"}})
	run := engine.Execute(context.Background(), c, module.NewRegistry(f), engine.Options{Test: true})
	r := run.Results[0]
	if r.Result != nil || r.Comment != "waits for node1 to bootstrap" {
		t.Fatalf("test mode: result %v comment %q, want None with the deferral", r.Result, r.Comment)
	}
	run = engine.Execute(context.Background(), c, module.NewRegistry(f), engine.Options{})
	if r := run.Results[0]; r.Result == nil || !*r.Result || f.counts("A").apply != 1 {
		t.Fatalf("apply: %+v, applies %d", r, f.counts("A").apply)
	}
}
