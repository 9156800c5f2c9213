package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"strings"
	"testing"

	"github.com/statectl/statectl/runner/state"
)

// secretRun is a test run whose changes hold a credential-named key.
func secretRun() *Run {
	return &Run{Target: "node2", Test: true, Results: []*state.Result{
		res("settings", "succeed_with_changes", nil, map[string]any{
			"config": map[string]any{
				"old": map[string]any{"images.auto_update_interval": "6", "loki.auth.password": "hunter2"},
				"new": map[string]any{"images.auto_update_interval": "0", "loki.auth.password": "s3cret|x"},
			},
		}, "Settings would change", 3, 0),
		res("member", "succeed_without_changes", state.Bool(true), nil, "Success!", 1, 1),
	}}
}

func TestCIGolden(t *testing.T) {
	tests := []struct {
		golden string
		format Format
		runs   []*Run
	}{
		{"apply-v1.json", JSONv1, []*Run{applyRun(), testRun()}},
		{"apply.md", Markdown, []*Run{applyRun(), secretRun(), failhardRun()}},
		{"apply.junit.xml", JUnit, []*Run{applyRun(), secretRun(), failhardRun()}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			var first []byte
			for i := 0; i < 3; i++ {
				var buf bytes.Buffer
				if err := WriteRuns(&buf, tt.format, tt.runs, RunOptions{Version: "v1.2.3", Detailed: true}); err != nil {
					t.Fatal(err)
				}
				if i == 0 {
					first = buf.Bytes()
				} else if !bytes.Equal(first, buf.Bytes()) {
					t.Fatalf("output not deterministic:\n%s\n---\n%s", first, buf.Bytes())
				}
			}
			if bytes.Contains(first, []byte("hunter2")) || bytes.Contains(first, []byte("s3cret")) {
				t.Fatalf("secret leaked:\n%s", first)
			}
			checkGolden(t, tt.golden, first)
		})
	}
}

func TestJSONv1Shape(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteRuns(&buf, JSONv1, []*Run{testRun()}, RunOptions{Version: "dev", Detailed: true}); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		SchemaVersion int `json:"schema_version"`
		Targets       []struct {
			Target   string `json:"target"`
			ExitCode int    `json:"exit_code"`
			Summary  struct {
				WouldChange int `json:"would_change"`
			} `json:"summary"`
			States []struct {
				Status string `json:"status"`
				Result *bool  `json:"result"`
			} `json:"states"`
		} `json:"targets"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	tg := doc.Targets[0]
	if doc.SchemaVersion != 1 || tg.Target != "node3" || tg.ExitCode != ExitChanged || tg.Summary.WouldChange != 1 ||
		tg.States[1].Status != "would_change" || tg.States[1].Result != nil {
		t.Fatalf("unexpected document: %+v", doc)
	}
}

func TestJUnitCounts(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteJUnit(&buf, []*Run{secretRun(), failhardRun()}); err != nil {
		t.Fatal(err)
	}
	var doc junitSuites
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	// would change is not a failure; the failhard run has one failure and
	// one skipped case for its 2 states not run.
	if doc.Tests != 5 || doc.Failures != 1 || doc.Skipped != 1 {
		t.Fatalf("tests/failures/skipped = %d/%d/%d, want 5/1/1", doc.Tests, doc.Failures, doc.Skipped)
	}
	if doc.Suites[0].Cases[0].Failure != nil || !strings.Contains(doc.Suites[0].Cases[0].SystemOut, `images.auto_update_interval: "6" → "0"`) {
		t.Fatalf("would-change case: %+v", doc.Suites[0].Cases[0])
	}
}

func TestParseRunFormat(t *testing.T) {
	for _, s := range []string{"human", "json", "yaml", "json-v1", "markdown", "junit"} {
		if _, err := ParseRunFormat(s); err != nil {
			t.Errorf("ParseRunFormat(%q): %v", s, err)
		}
	}
	if _, err := ParseRunFormat("xml"); err == nil {
		t.Error("ParseRunFormat(xml) succeeded")
	}
	// Data commands keep the three data formats.
	if _, err := ParseFormat("markdown"); err == nil {
		t.Error("ParseFormat(markdown) succeeded")
	}
}
