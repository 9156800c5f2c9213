package planfile

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/statectl/statectl/runner/module"
	"github.com/statectl/statectl/runner/state"
)

func st(id string) *state.State {
	return &state.State{ID: id, Name: id, Module: "incus", Function: "settings_present", Args: map[string]any{"name": id}}
}

func plan(changes map[string]any, etag string) *module.Plan {
	p := &module.Plan{Changes: changes, Comment: "c"}
	if etag != "" {
		p.Private = json.RawMessage(`{"etag": "` + etag + `"}`)
	}
	return p
}

func chg(old, new any) map[string]any {
	return map[string]any{"config": map[string]any{"old": old, "new": new}}
}

// record saves a plan of states a (would change) and b (converged) and
// reads it back from a file, as apply --plan does.
func record(t *testing.T) *Target {
	t.Helper()
	c := &state.Compiled{States: []*state.State{st("a"), st("b")}}
	rec := NewRecorder("node1", c)
	rec.Check(c.States[0], plan(chg("6", "0"), "e1"), nil)
	rec.Check(c.States[1], plan(nil, ""), nil)
	path := filepath.Join(t.TempDir(), "plan.json")
	if err := Write(path, &File{Version: Version, Targets: []*Target{rec.T}}); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("plan file mode %v", fi.Mode().Perm())
	}
	f, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	return f.Target("node1")
}

func TestCheckerRoundTrip(t *testing.T) {
	tests := []struct {
		name  string
		a, b  *module.Plan
		stale string
	}{
		{"unchanged", plan(chg("6", "0"), "e1"), plan(nil, ""), ""},
		{"etag moved", plan(chg("6", "0"), "e2"), plan(nil, ""), "a changed since it was planned (live object changed (ETag))"},
		{"other old value", plan(chg("7", "0"), "e1"), plan(nil, ""), "a changed since it was planned (changes config -> config)"},
		{"b drifted", plan(chg("6", "0"), "e1"), plan(chg("x", "y"), "e9"), "b changed since it was planned"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			chk := NewChecker(record(t))
			chk.Check(st("a"), tt.a, nil)
			chk.Check(st("b"), tt.b, nil)
			got := strings.Join(chk.Stale(), "; ")
			if tt.stale == "" && got != "" || !strings.Contains(got, tt.stale) {
				t.Fatalf("Stale() = %q, want %q", got, tt.stale)
			}
		})
	}
	chk := NewChecker(record(t))
	chk.Check(st("a"), plan(chg("6", "0"), "e1"), nil)
	if got := chk.Stale(); len(got) != 1 || !strings.Contains(got[0], "b was planned but is not planned now") {
		t.Fatalf("missing state: %v", got)
	}
}

func TestApplier(t *testing.T) {
	changed := []*state.Result{{ID: "join", Result: state.Bool(true), Changes: map[string]any{"member": 1}}}
	clean := []*state.Result{{ID: "x", Result: state.Bool(true)}}
	tests := []struct {
		name  string
		state string
		plan  *module.Plan
		prior []*state.Result
		err   string
	}{
		{"as saved", "a", plan(chg("6", "0"), "e1"), clean, ""},
		{"moved before any change", "a", plan(chg("6", "0"), "e2"), clean, "plan is stale; plan again: a changed"},
		{"converged after a change", "a", plan(nil, ""), changed, ""},
		{"same keys after a change", "a", plan(chg("x", "0"), "e5"), changed, ""},
		{"beyond the plan after a change", "a", plan(map[string]any{"roles": 1}, "e5"), changed, "would change roles, beyond the saved plan"},
		{"unplanned state with changes", "z", plan(chg("1", "2"), "e"), changed, "beyond the saved plan"},
		{"unplanned converged state", "z", plan(nil, ""), clean, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewApplier(record(t)).Check(st(tt.state), tt.plan, tt.prior)
			if (err == nil) != (tt.err == "") || err != nil && !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("Check: %v, want %q", err, tt.err)
			}
		})
	}
}

func TestInputsDigest(t *testing.T) {
	dir := t.TempDir()
	states := filepath.Join(dir, "states")
	os.MkdirAll(filepath.Join(states, "incus"), 0o755)
	os.WriteFile(filepath.Join(states, "top.sls"), []byte("base: {}\n"), 0o644)
	os.WriteFile(filepath.Join(states, "incus", "init.sls"), []byte("a: b\n"), 0o644)
	spec := InputSpec{Expr: "node1", StatesDir: states, PillarDir: filepath.Join(dir, "nopillar"), RosterFile: filepath.Join(dir, "roster.yaml"), Statectl: "dev"}
	a, err := Digest(spec)
	if err != nil {
		t.Fatal(err)
	}
	if a.Pillar != absent || a.Roster != absent {
		t.Errorf("missing inputs: %+v", a)
	}
	b, _ := Digest(spec)
	if d := a.Diff(b); d != nil {
		t.Fatalf("same inputs differ: %v", d)
	}
	os.WriteFile(filepath.Join(states, "incus", "init.sls"), []byte("a: c\n"), 0o644)
	spec.PillarOverride = `{"x": 1}`
	spec.SLS = []string{"incus"}
	c, _ := Digest(spec)
	if got := strings.Join(a.Diff(c), ", "); got != "SLS list, state tree, pillar override" {
		t.Fatalf("Diff = %q", got)
	}
}

func TestReadRejectsOtherVersions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.json")
	os.WriteFile(path, []byte(`{"version": 2}`), 0o600)
	if _, err := Read(path); err == nil || !strings.Contains(err.Error(), "format version 2") {
		t.Fatalf("Read: %v", err)
	}
}

// TestWriteIgnoresPlantedTmp: a symlink planted at the old fixed temporary
// name (plan.json.tmp) pointing at another file is not followed; the plan
// lands in plan.json, mode 0600, and no
// temporary file is left behind. Before os.CreateTemp the write went
// through the symlink and overwrote the victim.
func TestWriteIgnoresPlantedTmp(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	if err := os.WriteFile(victim, []byte("precious\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "plan.json")
	if err := os.Symlink(victim, path+".tmp"); err != nil {
		t.Fatal(err)
	}
	if err := Write(path, &File{Version: Version}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious\n" {
		t.Errorf("victim overwritten: %q", b)
	}
	fi, err := os.Lstat(path)
	if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
		t.Fatalf("plan file: %v, %v", fi, err)
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "plan.json plan.json.tmp victim" {
		t.Errorf("directory holds %v", names)
	}
}
