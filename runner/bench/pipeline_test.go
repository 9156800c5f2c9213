package bench

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/statectl/statectl/runner/cli"
	"github.com/statectl/statectl/runner/lab/labtest"
)

// The chain and the 50-file tree are applied as `statectl apply local
// [SLS] --test --offline`: render + compile + a test-mode run + the human
// report, the whole of what the CLI does for them.

func chainTree(tb testing.TB) *Tree {
	tb.Helper()
	t, err := WriteChain(tb.TempDir(), 1000)
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

func mapTree(tb testing.TB) *Tree {
	tb.Helper()
	t, err := WriteSharedMap(tb.TempDir(), 50, 20)
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

// runMain runs cli.Main and fails unless it exits with want.
func runMain(tb testing.TB, want int, args []string, stdout io.Writer) {
	tb.Helper()
	var stderr bytes.Buffer
	if code := cli.Main(args, stdout, &stderr); code != want {
		tb.Fatalf("statectl %s: exit %d, want %d\n%s", strings.Join(args, " "), code, want, stderr.String())
	}
}

// jsonStates decodes `--out json` for target local: tag -> result.
func jsonStates(tb testing.TB, out []byte) map[string]map[string]any {
	tb.Helper()
	var doc map[string]map[string]map[string]any
	if err := json.Unmarshal(out, &doc); err != nil {
		tb.Fatalf("bad json output: %v\n%s", err, out)
	}
	return doc["local"]
}

// TestPipelineTrees checks what the benchmarks measure: every state of
// each tree runs, in order, with the predicted result.
func TestPipelineTrees(t *testing.T) {
	tests := []struct {
		name    string
		tree    *Tree
		want    int // exit code with --detailed-exitcode
		changed bool
		first   string // tag of run number 0
		last    string // tag of the last run number
	}{
		{"chain", chainTree(t), 3, true, "test_|-s0000_|-s0000_|-succeed_with_changes", "test_|-s0999_|-s0999_|-succeed_with_changes"},
		{"shared map", mapTree(t), 0, false, "test_|-f00-s0_|-local:8443/0_|-succeed_without_changes", "test_|-f49-s19_|-local:8443/19_|-succeed_without_changes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			runMain(t, tc.want, tc.tree.Args("--out", "json", "--detailed-exitcode"), &out)
			states := jsonStates(t, out.Bytes())
			if len(states) != tc.tree.N {
				t.Fatalf("%d states, want %d", len(states), tc.tree.N)
			}
			byRun := make([]string, len(states))
			for tag, r := range states {
				// Test mode: None for a predicted change, True when converged.
				if want := map[bool]any{true: nil, false: true}[tc.changed]; r["result"] != want {
					t.Fatalf("%s: result %v, want %v", tag, r["result"], want)
				}
				if changed := len(r["changes"].(map[string]any)) > 0; changed != tc.changed {
					t.Fatalf("%s: changed=%v", tag, changed)
				}
				byRun[int(r["__run_num__"].(float64))] = tag
			}
			if byRun[0] != tc.first || byRun[len(byRun)-1] != tc.last {
				t.Fatalf("run order: first %s, last %s", byRun[0], byRun[len(byRun)-1])
			}
		})
	}
	t.Run("map values", func(t *testing.T) {
		var out bytes.Buffer
		runMain(t, 0, mapTree(t).Args("--out", "json"), &out)
		r := jsonStates(t, out.Bytes())["test_|-f07-s3_|-local:8443/3_|-succeed_without_changes"]
		if r == nil || r["comment"] != "['a', 'b'] 20" {
			t.Fatalf("pillar merged into the map: got %v", r)
		}
	})
}

// TestSharedMapReadOnce counts, from outside statectl (inotify), how
// often one highstate run of the 50-file tree opens each file: the
// map.jinja imported by all 50 is read (and so parsed) once per run, and
// each SLS once.
func TestSharedMapReadOnce(t *testing.T) {
	tree := mapTree(t)
	mapPath := filepath.Join(tree.States, filepath.FromSlash(MapFile))
	watch := []string{mapPath, filepath.Join(tree.States, "bench", "f00.sls"), filepath.Join(tree.States, "bench", "f49.sls")}
	oc, err := NewOpenCounter(watch...)
	if err != nil {
		t.Fatal(err)
	}
	defer oc.Close()
	for run := 1; run <= 2; run++ {
		runMain(t, 0, tree.Args(), io.Discard)
		got, err := oc.Take()
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range watch {
			if got[p] != 1 {
				t.Errorf("run %d: %s opened %d times, want 1", run, filepath.Base(p), got[p])
			}
		}
	}
}

func benchMain(b *testing.B, tree *Tree) {
	args := tree.Args()
	b.ReportAllocs()
	for b.Loop() {
		runMain(b, 0, args, io.Discard)
	}
}

// BenchmarkPipelineChain1000 is `statectl apply local chain --test` on a
// 1,000-state require chain, in process: render, compile, plan every
// state, write the highstate report (to io.Discard).
func BenchmarkPipelineChain1000(b *testing.B) { benchMain(b, chainTree(b)) }

// BenchmarkPipeline50FilesSharedMap is the highstate of 1,000 independent
// states in 50 SLS files that all import one map.jinja. It also reports
// how often a run opened map.jinja.
func BenchmarkPipeline50FilesSharedMap(b *testing.B) {
	tree := mapTree(b)
	oc, err := NewOpenCounter(filepath.Join(tree.States, filepath.FromSlash(MapFile)))
	if err != nil {
		b.Fatal(err)
	}
	defer oc.Close()
	benchMain(b, tree)
	opens, err := oc.Take()
	if err != nil {
		b.Fatal(err)
	}
	total := 0
	for _, n := range opens {
		total += n
	}
	b.ReportMetric(float64(total)/float64(b.N), "map-opens/op")
}

// TestMain removes the statectl binary built for BenchmarkProcess.
func TestMain(m *testing.M) {
	code := m.Run()
	labtest.RemoveBinary()
	os.Exit(code)
}

// BenchmarkProcess runs each tree as a separate `statectl apply --test`
// process, as a user would: the time includes process start-up, and
// peak-RSS-MB is the largest ru_maxrss over the runs. Help is `statectl
// help`: start-up (runtime and package initialisation) alone. median-ms
// is wall time; cpu-ms (user + system) moves less with the machine's load.
func BenchmarkProcess(b *testing.B) {
	for _, tc := range []struct {
		name string
		args func(testing.TB) []string
	}{
		{"Help", func(testing.TB) []string { return []string{"help"} }},
		{"Chain1000", func(tb testing.TB) []string { return chainTree(tb).Args() }},
		{"50FilesSharedMap", func(tb testing.TB) []string { return mapTree(tb).Args() }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			bin, args := labtest.Binary(b), tc.args(b)
			var peak int64
			var walls, cpus []time.Duration
			for b.Loop() {
				r, err := RunProcess(bin, args...)
				if err != nil {
					b.Fatal(err)
				}
				peak = max(peak, r.MaxRSS)
				walls = append(walls, r.Wall)
				cpus = append(cpus, r.CPU)
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MB")
			b.ReportMetric(float64(median(walls).Microseconds())/1000, "median-ms")
			b.ReportMetric(float64(median(cpus).Microseconds())/1000, "cpu-ms")
		})
	}
}

func median(ds []time.Duration) time.Duration {
	slices.Sort(ds)
	return ds[len(ds)/2]
}
