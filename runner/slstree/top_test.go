package slstree

import (
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/statectl/statectl/runner/target"
)

// TestTop: one top file semantics for states and pillar.
func TestTop(t *testing.T) {
	subj := &target.Subject{ID: "node1", Grains: map[string]any{"role": "web"}}
	tests := []struct {
		name    string
		top     string
		want    []TopEntry
		wantErr string
	}{
		{"order kept, each once", "base:\n  '*': [a, b]\n  node1: [b, c]\n",
			[]TopEntry{{SLS: "a", Line: 2}, {SLS: "b", Line: 2}, {SLS: "c", Line: 3}}, ""},
		{"other environment skipped", "dev:\n  '*': [d]\nbase:\n  '*': [a]\n",
			[]TopEntry{{SLS: "a", Line: 4}}, ""},
		{"other environment still checked", "dev:\n  '*': d\n", nil, "target '*' must have a list of SLS names, got a scalar"},
		{"ignore_missing only if every listing says so", "base:\n  '*':\n    - a\n    - ignore_missing: true\n  node1: [a]\n",
			[]TopEntry{{SLS: "a", Line: 3}}, ""},
		{"ignore_missing", "base:\n  '*':\n    - a\n    - ignore_missing: true\n",
			[]TopEntry{{SLS: "a", Line: 3, IgnoreMissing: true}}, ""},
		{"every match type of target", "base:\n  'role:w.*':\n    - match: grain_pcre\n    - a\n",
			[]TopEntry{{SLS: "a", Line: 4}}, ""},
		{"no match", "base:\n  node2: [a]\n", nil, ""},
		{"unknown option", "base:\n  '*':\n    - a\n    - order: 1\n", nil, `unknown option "order"`},
		{"unknown match type", "base:\n  x:\n    - match: regex\n    - a\n", nil, "unknown match type 'regex' for target 'x'"},
		{"not a mapping", "- base\n", nil, "must be a mapping of saltenv to targets, got a list"},
		{"empty", "", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var doc yaml.Node
			if err := yaml.Unmarshal([]byte(tt.top), &doc); err != nil {
				t.Fatal(err)
			}
			got, errs := Top(&doc, "base", subj)
			if tt.wantErr != "" {
				if len(errs) == 0 || !strings.Contains(errs[0].Msg, tt.wantErr) {
					t.Fatalf("errors = %v, want %q", errs, tt.wantErr)
				}
				return
			}
			if len(errs) > 0 {
				t.Fatalf("errors: %v", errs)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Top = %+v, want %+v", got, tt.want)
			}
		})
	}
}
