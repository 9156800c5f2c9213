package plugin

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/statectl/statectl/runner/module"
	"github.com/statectl/statectl/runner/modules/file"
	"github.com/statectl/statectl/runner/plugin/plugintest"
)

// benchCall is a converged file.managed state: what most states of a
// re-run cost, one Plan.
func benchCall(b *testing.B) *module.Call {
	p := filepath.Join(b.TempDir(), "motd")
	if err := os.WriteFile(p, []byte("hello\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	return &module.Call{ID: p, SLS: "bench", Function: "managed", Name: p,
		Args:   map[string]any{"name": p, "contents": "hello", "mode": "0644"},
		Target: &module.Target{Name: "local", Grains: map[string]any{"id": "local", "os": "Debian"}}}
}

func benchPlan(b *testing.B, m module.Module) {
	call := benchCall(b)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		p, err := m.Plan(ctx, call)
		if err != nil || len(p.Changes) > 0 {
			b.Fatalf("plan: %v %v", p, err)
		}
	}
}

// BenchmarkPlanInProcess is the per-state cost of the file module linked
// into statectl.
func BenchmarkPlanInProcess(b *testing.B) { benchPlan(b, file.New()) }

// BenchmarkPlanPlugin is the same state through the plugin (gRPC over
// mTLS on a unix socket); the difference is the per-call overhead.
func BenchmarkPlanPlugin(b *testing.B) {
	dir := b.TempDir()
	plugintest.Install(b, plugintest.Build(b, plugintest.File), dir, "file")
	h := NewHost(Options{Dirs: []string{dir}})
	defer h.Close()
	m, err := h.Resolve("file")
	if err != nil {
		b.Fatal(err)
	}
	benchPlan(b, m)
}

// BenchmarkStart is starting the plugin (exec, handshake with mTLS
// certificates, describe) and stopping it.
func BenchmarkStart(b *testing.B) {
	dir := b.TempDir()
	plugintest.Install(b, plugintest.Build(b, plugintest.File), dir, "file")
	h := NewHost(Options{Dirs: []string{dir}})
	b.ResetTimer()
	for b.Loop() {
		m, err := h.Resolve("file")
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		m.(*Plugin).Close()
		b.StartTimer()
	}
}
