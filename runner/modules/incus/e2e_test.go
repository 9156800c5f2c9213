package incus_test

import (
	"path/filepath"
	"testing"

	"github.com/statectl/statectl/runner/compile"
	"github.com/statectl/statectl/runner/module"
	"github.com/statectl/statectl/runner/pillar"
	"github.com/statectl/statectl/runner/target"
)

// compileFor compiles the shipped `incus` SLS for a lab target with the
// lab's pillar and roster grains.
func (e *env) compileFor(id string) []*module.Call {
	e.t.Helper()
	ent, _ := e.roster.Get(id)
	grains := map[string]any{"id": id}
	for k, v := range ent.Grains {
		grains[k] = v
	}
	pil, err := pillar.Compile(e.lab.PillarDir(), id, grains, nil)
	if err != nil {
		e.t.Fatalf("pillar for %s: %v", id, err)
	}
	c, err := compile.SLS(compile.Options{
		Root:     filepath.Join(repo, "states"),
		Target:   &target.Subject{ID: id, Grains: grains, Pillar: pil},
		Registry: module.NewRegistry(e.mod),
	}, "incus")
	if err != nil {
		e.t.Fatalf("compile for %s: %v", id, err)
	}
	var calls []*module.Call
	for _, s := range c.States {
		calls = append(calls, &module.Call{ID: s.ID, SLS: s.SLS, Function: s.Function, Name: s.Name, Args: s.Args,
			Target: &module.Target{Name: id, Grains: grains}})
	}
	return calls
}

// TestShippedStatesFormCluster applies the shipped states to each lab
// target in turn (`statectl apply nodeN incus`), as the CLI will: the
// cluster forms as the lab pillar says, and a second pass is a no-op.
func TestShippedStatesFormCluster(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 3)
	for _, id := range []string{"node1", "node2", "node3"} {
		for _, c := range e.compileFor(id) {
			r := e.run(e.mod, c)
			if r.planErr != nil || r.plan.Fail || r.applErr != nil || (r.out != nil && r.out.Failed) {
				t.Fatalf("%s on %s: plan err=%v plan=%+v apply err=%v out=%+v", c.ID, id, r.planErr, r.plan, r.applErr, r.out)
			}
		}
	}
	got := members(t, e.client("node1"))
	for _, id := range []string{"node1", "node2", "node3"} {
		if got[id].Description != "statectl lab member "+id || got[id].Status != "Online" {
			t.Fatalf("member %s: %+v", id, got[id])
		}
	}
	m2 := e.newModule()
	before := e.counter.Writes()
	for _, id := range []string{"node1", "node2", "node3"} {
		for _, c := range e.compileFor(id) {
			e.mustConverged(m2, c)
		}
	}
	if n := e.counter.Writes() - before; n != 0 {
		t.Fatalf("second pass sent %d writes", n)
	}
}
