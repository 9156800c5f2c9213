package report

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/statectl/statectl/runner/golden"
	"github.com/statectl/statectl/runner/secret"
	"github.com/statectl/statectl/runner/state"
)

var clock = time.Date(2025, 11, 21, 10, 15, 1, 936011000, time.UTC)

func res(id, fn string, ok *bool, changes map[string]any, comment string, ms float64, run int) *state.Result {
	return &state.Result{
		Tag:       "test_|-" + id + "_|-" + id + "_|-" + fn,
		ID:        id,
		SLS:       "demo",
		RunNum:    run,
		Name:      id,
		Module:    "test",
		Function:  fn,
		Result:    ok,
		Changes:   changes,
		Comment:   comment,
		StartTime: clock.Add(time.Duration(run) * time.Second),
		Duration:  time.Duration(ms * float64(time.Millisecond)),
	}
}

func applyRun() *Run {
	renamed := res("cluster-member", "succeed_with_changes", state.Bool(true), map[string]any{
		"member": map[string]any{"old": nil, "new": "node2"},
		"roles":  []any{"database", map[string]any{"voter": true}, []string{"a", "b"}},
		"config": map[string]any{},
		"weight": 3,
		"ratio":  0.5,
		"note":   "line one\nline two",
	}, "Cluster member node2 joined", 812.345, 1)
	renamed.Name = "node2"
	renamed.Tag = "test_|-cluster-member_|-node2_|-succeed_with_changes"
	return &Run{Target: "node2", Results: []*state.Result{
		res("first", "succeed_without_changes", state.Bool(true), nil, "Success!", 0.012, 0),
		renamed,
		res("broken", "fail_without_changes", state.Bool(false), nil, "Failure!\nsecond line", 421.5, 2),
	}}
}

func testRun() *Run {
	return &Run{Target: "node3", Test: true, Results: []*state.Result{
		res("first", "succeed_without_changes", state.Bool(true), nil, "Success!", 1, 0),
		res("pending", "succeed_with_changes", nil, map[string]any{"testing": map[string]any{"old": "Unchanged", "new": "Something pretended to change"}}, "Would change", 2, 1),
	}}
}

func failhardRun() *Run {
	return &Run{Target: "node1", Failhard: true, NotRun: 2, Results: []*state.Result{
		res("ok", "succeed_without_changes", state.Bool(true), nil, "Success!", 1500, 0),
		res("stop", "fail_without_changes", state.Bool(false), nil, "Failure!", 250, 1),
	}}
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	golden.Check(t, filepath.Join("..", "..", "testdata", "report", name), got)
}

func TestGolden(t *testing.T) {
	tests := []struct {
		golden string
		format Format
		runs   []*Run
		opts   Options
	}{
		{"full.txt", Human, []*Run{applyRun()}, Options{}},
		{"terse.txt", Human, []*Run{applyRun()}, Options{StateOutput: Terse}},
		{"mixed.txt", Human, []*Run{applyRun()}, Options{StateOutput: Mixed}},
		{"changes.txt", Human, []*Run{applyRun()}, Options{StateOutput: Changes}},
		{"test-mode.txt", Human, []*Run{testRun()}, Options{}},
		{"failhard.txt", Human, []*Run{failhardRun()}, Options{}},
		{"multi.txt", Human, []*Run{testRun(), failhardRun()}, Options{StateOutput: Terse}},
		{"color.txt", Human, []*Run{applyRun(), testRun()}, Options{Color: true}},
		{"apply.json", JSON, []*Run{applyRun(), testRun()}, Options{}},
		{"apply.yaml", YAML, []*Run{applyRun(), testRun()}, Options{}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			var first []byte
			for i := 0; i < 3; i++ { // map iteration must not leak into output
				var buf bytes.Buffer
				if err := Write(&buf, tt.format, tt.runs, tt.opts); err != nil {
					t.Fatal(err)
				}
				if i == 0 {
					first = buf.Bytes()
				} else if !bytes.Equal(first, buf.Bytes()) {
					t.Fatalf("output not deterministic:\n%s\n---\n%s", first, buf.Bytes())
				}
			}
			checkGolden(t, tt.golden, first)
		})
	}
}

func TestColorOnlyWhenAsked(t *testing.T) {
	for _, on := range []bool{false, true} {
		var buf bytes.Buffer
		if err := WriteHuman(&buf, applyRun(), Options{Color: on}); err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(buf.String(), "\x1b["); got != on {
			t.Errorf("color %v: escape codes present = %v", on, got)
		}
	}
}

func TestExitCode(t *testing.T) {
	ok := &Run{Results: []*state.Result{res("a", "succeed_without_changes", state.Bool(true), nil, "", 1, 0)}}
	changed := &Run{Results: []*state.Result{res("a", "succeed_with_changes", state.Bool(true), map[string]any{"x": 1}, "", 1, 0)}}
	wouldChange := &Run{Test: true, Results: []*state.Result{res("a", "succeed_with_changes", nil, nil, "", 1, 0)}}
	tests := []struct {
		name     string
		run      *Run
		detailed bool
		want     int
	}{
		{"ok", ok, false, 0},
		{"ok detailed", ok, true, 0},
		{"changed", changed, false, 0},
		{"changed detailed", changed, true, 3},
		{"would change detailed", wouldChange, true, 3},
		{"would change", wouldChange, false, 0},
		{"failed", applyRun(), false, 2},
		{"failed detailed", applyRun(), true, 2},
		{"empty", &Run{}, true, 0},
		{"interrupted", &Run{Interrupted: true, NotRun: 2, Results: ok.Results}, false, 2},
	}
	for _, tt := range tests {
		if got := ExitCode(tt.run, tt.detailed); got != tt.want {
			t.Errorf("%s: ExitCode = %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestWorst(t *testing.T) {
	tests := []struct {
		codes []int
		want  int
	}{
		{nil, 0},
		{[]int{0, 3}, 3},
		{[]int{3, 2, 0}, 2},
		{[]int{2, 1}, 1},
		{[]int{1, 5, 2}, 5},
	}
	for _, tt := range tests {
		if got := Worst(tt.codes...); got != tt.want {
			t.Errorf("Worst(%v) = %d, want %d", tt.codes, got, tt.want)
		}
	}
}

func TestParse(t *testing.T) {
	for _, s := range []string{"human", "json", "yaml"} {
		if _, err := ParseFormat(s); err != nil {
			t.Errorf("ParseFormat(%q): %v", s, err)
		}
	}
	if _, err := ParseFormat("xml"); err == nil || !strings.Contains(err.Error(), `"xml"`) {
		t.Errorf("ParseFormat(xml) error = %v", err)
	}
	for _, s := range []string{"full", "terse", "mixed", "changes"} {
		if _, err := ParseStateOutput(s); err != nil {
			t.Errorf("ParseStateOutput(%q): %v", s, err)
		}
	}
	if _, err := ParseStateOutput("short"); err == nil {
		t.Error("ParseStateOutput(short) succeeded")
	}
}

func TestStatesData(t *testing.T) {
	c := &state.Compiled{States: []*state.State{
		{ID: "pkg", Name: "pkg", SLS: "base", Module: "test", Function: "nop", Args: map[string]any{"name": "pkg"}},
		{ID: "join", Name: "node2", SLS: "incus.cluster", Module: "test", Function: "succeed_with_changes",
			Args: map[string]any{"name": "node2", "passphrase": "hunter2", "address": "10.0.0.2", "zeta": 1, "alpha": 2,
				"config": map[string]any{"core.trust_password": "tr0ub4dor", "core.https_address": ":8443"}},
			ArgOrder: []string{"name", "passphrase", "address", "config"},
			Deps:     []state.Edge{{Kind: state.Watch, Index: 0}, {Kind: state.Require, Index: 0}},
			Failhard: true, Timeout: 30 * time.Second},
		{ID: "join", Name: "node3", SLS: "incus.cluster", Module: "test", Function: "succeed_with_changes",
			Args: map[string]any{"name": "node3"}},
	}}
	// passphrase is secret by its ArgSpec only; the nested trust password
	// by its key name.
	secret := func(s *state.State, arg string) bool { return arg == "passphrase" }
	var buf bytes.Buffer
	if err := WriteData(&buf, YAML, map[string]any{"node2": StatesData(c, secret)}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "hunter2") || strings.Contains(buf.String(), "tr0ub4dor") {
		t.Fatalf("secret printed:\n%s", buf.String())
	}
	checkGolden(t, "states.yaml", buf.Bytes())
}

func TestMaskTreeReport(t *testing.T) {
	in := map[string]any{
		"incus": map[string]any{
			"cluster_members": map[string]any{
				"node2": map[string]any{"address": "10.0.0.2", "cluster_password": "hunter2"},
			},
			"server_settings": map[string]any{"config": map[string]any{
				"core.trust_password":       "s3cret",
				"cluster.join_token_expiry": "3H",
				"core.https_address":        "[::]:8443",
			}},
			"tokens":          []any{map[string]any{"join_token": "abc"}},
			"client_key_path": "/etc/statectl/client.key",
			"client_key":      "-----BEGIN PRIVATE KEY-----",
			"no_password":     nil,
		},
	}
	got := secret.MaskTree(in)
	var buf bytes.Buffer
	if err := WriteData(&buf, JSON, got); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, v := range []string{"hunter2", "s3cret", "abc", "BEGIN PRIVATE KEY"} {
		if strings.Contains(out, v) {
			t.Errorf("secret %q printed:\n%s", v, out)
		}
	}
	for _, kept := range []string{"10.0.0.2", "3H", "[::]:8443", "/etc/statectl/client.key", `"no_password": null`} {
		if !strings.Contains(out, kept) {
			t.Errorf("%q masked or lost:\n%s", kept, out)
		}
	}
	// The input is not modified.
	if in["incus"].(map[string]any)["cluster_members"].(map[string]any)["node2"].(map[string]any)["cluster_password"] != "hunter2" {
		t.Error("MaskTree modified its input")
	}
}

// In test mode the summary agrees with itself: a None result whose changes
// could not be predicted (a deferred plan) is a pending change too.
func TestTestSummaryAgrees(t *testing.T) {
	r := &Run{Target: "node2", Test: true, Results: []*state.Result{
		{ID: "join", Changes: map[string]any{"member": map[string]any{"old": nil, "new": "node2"}}},
		{ID: "settings", Comment: "Cannot be predicted until join would have changed"},
		{ID: "ok", Result: state.Bool(true)},
	}}
	c := Count(r)
	if c.Changed != c.WouldChange || c.WouldChange != 2 {
		t.Fatalf("changed=%d, would change %d: want 2 and 2", c.Changed, c.WouldChange)
	}
	var b strings.Builder
	if err := WriteHuman(&b, r, Options{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "(changed=2)") || !strings.Contains(b.String(), "Would change: 2") {
		t.Fatalf("summary disagrees:\n%s", b.String())
	}
}
