package engine_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/statectl/statectl/runner/engine"
	"github.com/statectl/statectl/runner/module"
	"github.com/statectl/statectl/runner/modules/testmod"
	"github.com/statectl/statectl/runner/state"
)

// chain builds n test.succeed_with_changes states, each requiring the
// previous one (the shape of saltstack/salt#59123).
func chain(n int) *state.Compiled {
	c := &state.Compiled{States: make([]*state.State, n)}
	for i := range c.States {
		id := fmt.Sprintf("s%04d", i)
		s := &state.State{ID: id, Name: id, SLS: "chain", Module: "test",
			Function: "succeed_with_changes", Args: map[string]any{"name": id}}
		if i > 0 {
			s.Deps = []state.Edge{{Kind: state.Require, Index: i - 1}}
		}
		c.States[i] = s
	}
	return c
}

func BenchmarkEngineChain1000(b *testing.B) {
	c := chain(1000)
	reg := module.NewRegistry(testmod.New())
	b.ReportAllocs()
	for b.Loop() {
		run := engine.Execute(context.Background(), c, reg, engine.Options{Test: true})
		if len(run.Results) != 1000 || run.Results[999].Result != nil {
			b.Fatalf("chain did not run through: %d results", len(run.Results))
		}
	}
}

// TestChain1000 keeps the benchmark's shape honest under plain go test.
func TestChain1000(t *testing.T) {
	run := engine.Execute(context.Background(), chain(1000), module.NewRegistry(testmod.New()), engine.Options{Test: true})
	if len(run.Results) != 1000 {
		t.Fatalf("%d results", len(run.Results))
	}
	for _, r := range run.Results {
		if r.Result != nil || !r.Changed() {
			t.Fatalf("%s: %v %v", r.ID, r.Result, r.Changes)
		}
	}
}
