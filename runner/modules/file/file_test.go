package file

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/statectl/statectl/runner/module"
)

func TestManagedPlan(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "states")
	if err := os.MkdirAll(filepath.Join(root, "files"), 0o755); err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(root, "files", "t.j2"), []byte("id={{ grains['id'] }} pw={{ pillar['pw'] }}\n"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "old"), []byte("old\n"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "bin"), []byte{0, 1, 2}, 0o644))
	// A secret beside the state tree and a link in the tree leading to it.
	must(os.WriteFile(filepath.Join(dir, "secret"), []byte("MARKER-SECRET\n"), 0o600))
	must(os.Symlink(filepath.Join(dir, "secret"), filepath.Join(root, "files", "leak")))
	must(os.Symlink("../..", filepath.Join(root, "files", "up")))
	target := &module.Target{Name: "n1", Grains: map[string]any{"id": "n1"}, Pillar: map[string]any{"pw": "s3cret"}, StateRoot: root}
	p := func(n string) string { return filepath.Join(dir, n) }
	tests := []struct {
		name    string
		args    map[string]any
		fail    string         // comment of a plan predicting failure
		changes map[string]any // exact changes otherwise
	}{
		{name: "diff as Salt", args: map[string]any{"name": p("old"), "contents": "new"},
			changes: map[string]any{"diff": "--- \n+++ \n@@ -1 +1 @@\n-old\n+new\n"}},
		{name: "no trailing newline added", args: map[string]any{"name": p("old"), "contents": "old", "contents_newline": false},
			changes: map[string]any{"diff": "--- \n+++ \n@@ -1 +1 @@\n-old\n+old\n\\ No newline at end of file\n"}},
		{name: "show_changes false", args: map[string]any{"name": p("old"), "contents": "new", "show_changes": false},
			changes: map[string]any{"diff": "<show_changes=False>"}},
		{name: "binary", args: map[string]any{"name": p("bin"), "contents": "text"},
			changes: map[string]any{"diff": "Replace binary file"}},
		{name: "replace false keeps contents", args: map[string]any{"name": p("old"), "contents": "new", "replace": false},
			changes: map[string]any{}},
		{name: "mode only", args: map[string]any{"name": p("old"), "mode": "0600"},
			changes: map[string]any{"mode": "0600"}},
		{name: "new file from a template", args: map[string]any{"name": p("new"), "source": "files/t.j2", "template": "jinja"},
			changes: map[string]any{"newfile": p("new")}},
		{name: "converged", args: map[string]any{"name": p("old"), "contents": "old"}, changes: map[string]any{}},
		{name: "missing parent", args: map[string]any{"name": p("no/such/file"), "contents": "x"},
			fail: "Parent directory not present"},
		{name: "directory", args: map[string]any{"name": dir, "contents": "x"},
			fail: "Specified target " + dir + " is a directory"},
		{name: "unknown user", args: map[string]any{"name": p("old"), "user": "no-such-user-xyz"},
			fail: "User no-such-user-xyz is not available"},
		{name: "missing source", args: map[string]any{"name": p("old"), "source": "salt://files/nope"},
			fail: "source file salt://files/nope not found"},
		{name: "source outside the tree", args: map[string]any{"name": p("old"), "source": "salt://../old"},
			fail: "source salt://../old: outside the state tree"},
		{name: "source symlink out of the tree", args: map[string]any{"name": p("old"), "source": "salt://files/leak"},
			fail: "source salt://files/leak: outside the state tree"},
		{name: "source through a directory link out", args: map[string]any{"name": p("old"), "source": "files/up/secret"},
			fail: "source files/up/secret: outside the state tree"},
		{name: "absolute source outside the tree", args: map[string]any{"name": p("old"), "source": p("secret")},
			fail: "outside the state tree"},
		{name: "mode as a number", args: map[string]any{"name": p("old"), "source": "salt://files/t.j2", "template": "jinja", "mode": 644},
			fail: "mode must be a quoted octal string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			call := &module.Call{ID: "s", Function: "managed", Name: tt.args["name"].(string), Args: tt.args, Test: true, Target: target}
			plan, err := New().Plan(context.Background(), call)
			if err != nil {
				t.Fatal(err)
			}
			if tt.fail != "" {
				if !plan.Fail || !strings.Contains(plan.Comment, tt.fail) {
					t.Fatalf("plan = %+v, want failure %q", plan, tt.fail)
				}
				// Apply reports the predicted failure and writes nothing.
				out, err := New().Apply(context.Background(), call, plan)
				if err != nil || !out.Failed || out.Comment != plan.Comment {
					t.Fatalf("apply of a failing plan = %+v, %v", out, err)
				}
				return
			}
			if plan.Fail {
				t.Fatalf("plan fails: %s", plan.Comment)
			}
			if len(plan.Changes) != len(tt.changes) {
				t.Fatalf("changes = %#v, want %#v", plan.Changes, tt.changes)
			}
			for k, v := range tt.changes {
				if plan.Changes[k] != v {
					t.Errorf("changes[%s] = %#v, want %#v", k, plan.Changes[k], v)
				}
			}
		})
	}
}

// TestManagedApplyTemplate: the template renders with grains and pillar.
func TestManagedApplyTemplate(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "t.j2"), []byte("{{ grains['id'] }}/{{ pillar['role'] }}"), 0o644); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(t.TempDir(), "out")
	call := &module.Call{ID: dest, Function: "managed", Name: dest,
		Args:   map[string]any{"name": dest, "source": "salt://t.j2", "template": "jinja"},
		Target: &module.Target{Grains: map[string]any{"id": "n1"}, Pillar: map[string]any{"role": "web"}, StateRoot: root}}
	plan, err := New().Plan(context.Background(), call)
	if err != nil {
		t.Fatal(err)
	}
	out, err := New().Apply(context.Background(), call, plan)
	if err != nil || out.Failed {
		t.Fatalf("apply = %+v, %v", out, err)
	}
	if out.Changes["diff"] != "New file" || out.Comment != "File "+dest+" updated" {
		t.Errorf("outcome = %+v", out)
	}
	got, _ := os.ReadFile(dest)
	if string(got) != "n1/web" {
		t.Errorf("file = %q", got)
	}
	fi, _ := os.Stat(dest)
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("mode = %v, want 0644 for a new file", fi.Mode().Perm())
	}
}
