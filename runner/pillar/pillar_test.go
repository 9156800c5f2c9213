package pillar

import (
	"encoding/json"
	"errors"
	"github.com/statectl/statectl/runner/golden"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const testdata = "../../testdata/pillar"

func nodeGrains(id string, ipv4 ...string) map[string]any {
	ips := []any{}
	for _, ip := range ipv4 {
		ips = append(ips, ip)
	}
	return map[string]any{"id": id, "os": "Debian", "os_family": "Debian", "ipv4": ips}
}

// TestSeed003 compiles the pillar shapes of the Salt formula cluster guide
// for each node and compares with golden JSON.
func TestSeed003(t *testing.T) {
	tests := []struct {
		id     string
		grains map[string]any
	}{
		{"incus-node1", nodeGrains("incus-node1", "10.0.1.101", "127.0.0.1")},
		{"incus-node2", nodeGrains("incus-node2", "10.0.1.102", "127.0.0.1")},
		{"incus-node3", map[string]any{"id": "incus-node3", "os": "Ubuntu", "ipv4": []any{"10.0.1.103"}}},
		{"storage-01", map[string]any{"id": "storage-01", "os": "Debian", "role": "storage", "ipv4": []any{"10.0.1.111"}}},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			got, err := Compile(filepath.Join(testdata, "seed003"), tt.id, tt.grains, nil)
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, filepath.Join(testdata, "golden", "seed003-"+tt.id+".json"), got)
		})
	}
}

func checkGolden(t *testing.T, file string, got map[string]any) {
	t.Helper()
	data, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	data = append(data, '\n')
	golden.Check(t, file, data)
}

func TestMergeOrder(t *testing.T) {
	root := filepath.Join(testdata, "merge")
	tests := []struct {
		name     string
		id       string
		override map[string]any
		want     map[string]any
	}{
		{
			name: "later files win, dicts merge, lists replaced, duplicate keeps first position",
			id:   "node1",
			want: map[string]any{
				"settings": map[string]any{
					"list":               []any{9},
					"nested":             map[string]any{"x": 3, "y": 2, "z": 2},
					"scalar":             "from-c",
					"replaced_by_scalar": "plain",
				},
				"only_a": true,
				"seen_a": "from-a",
			},
		},
		{
			name: "target without the node1 file",
			id:   "node2",
			want: map[string]any{
				"settings": map[string]any{
					"list":               []any{9},
					"nested":             map[string]any{"x": 1, "y": 2, "z": 2},
					"scalar":             "from-a",
					"replaced_by_scalar": "plain",
				},
				"only_a": true,
				"seen_a": "from-a",
			},
		},
		{
			name:     "override merges last, is visible to templates and to I@ in top",
			id:       "node2",
			override: map[string]any{"env": "prod", "only_a": false, "settings": map[string]any{"nested": map[string]any{"x": 100}, "list": []any{"o"}}},
			want: map[string]any{
				"settings": map[string]any{
					"list":               []any{"o"},
					"nested":             map[string]any{"x": 100, "y": 2, "z": 2},
					"scalar":             "from-a",
					"replaced_by_scalar": "plain",
				},
				"only_a":    false,
				"seen_a":    "from-a",
				"env":       "prod",
				"env_seen":  "prod",
				"prod_only": 1,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Compile(root, tt.id, nodeGrains(tt.id), tt.override)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				g, _ := json.MarshalIndent(got, "", "  ")
				w, _ := json.MarshalIndent(tt.want, "", "  ")
				t.Errorf("pillar:\n%s\nwant:\n%s", g, w)
			}
		})
	}
}

func TestOverrideNotAliased(t *testing.T) {
	override := map[string]any{"settings": map[string]any{"nested": map[string]any{"x": 100}}}
	got, err := Compile(filepath.Join(testdata, "merge"), "node1", nodeGrains("node1"), override)
	if err != nil {
		t.Fatal(err)
	}
	got["settings"].(map[string]any)["nested"].(map[string]any)["x"] = 0
	if x := override["settings"].(map[string]any)["nested"].(map[string]any)["x"]; x != 100 {
		t.Errorf("override mutated through the result: x = %v", x)
	}
	if len(override["settings"].(map[string]any)["nested"].(map[string]any)) != 1 {
		t.Errorf("override mutated by merging: %v", override)
	}
}

func TestTop(t *testing.T) {
	tests := []struct {
		id       string
		grains   map[string]any
		override map[string]any
		want     []string
	}{
		{"node1", nodeGrains("node1"), nil, []string{"a", "b", "c"}},
		{"node2", nodeGrains("node2"), nil, []string{"a", "b"}},
		{"web1", nodeGrains("web1"), map[string]any{"env": "prod"}, []string{"a", "b", "web", "prod"}},
	}
	for _, tt := range tests {
		got, err := Top(filepath.Join(testdata, "merge"), tt.id, tt.grains, tt.override)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Top(%s) = %v, want %v", tt.id, got, tt.want)
		}
	}
}

func TestInclude(t *testing.T) {
	got, err := Compile(filepath.Join(testdata, "include"), "node1", nodeGrains("node1"), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"app":    map[string]any{"name": "demo", "host": "node1"},
		"common": map[string]any{"owner": "app", "region": "eu"},
		"users":  map[string]any{"alice": map[string]any{"uid": 1000}, "bob": map[string]any{"uid": 1001}},
		"incus": map[string]any{"cluster": map[string]any{
			"enabled": true, "members": []any{"node1", "node2"}, "shared": true,
		}},
	}
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", "  ")
		t.Errorf("pillar:\n%s", g)
	}
}

func TestMissingRootOrTop(t *testing.T) {
	override := map[string]any{"k": "v"}
	for _, root := range []string{filepath.Join(t.TempDir(), "absent"), t.TempDir()} {
		got, err := Compile(root, "node1", nil, override)
		if err != nil {
			t.Fatalf("Compile(%s): %v", root, err)
		}
		if !reflect.DeepEqual(got, override) {
			t.Errorf("Compile(%s) = %v, want the override alone", root, got)
		}
		got, err = Compile(root, "node1", nil, nil)
		if err != nil || len(got) != 0 || got == nil {
			t.Errorf("Compile(%s) without override = %#v, %v; want an empty map", root, got, err)
		}
	}
}

func TestEmptyFiles(t *testing.T) {
	root := writeTree(t, map[string]string{
		"top.sls":      "base:\n  '*':\n    - empty\n    - comments\n",
		"empty.sls":    "",
		"comments.sls": "# nothing here\n{% if false %}\nx: 1\n{% endif %}\n",
	})
	got, err := Compile(root, "node1", nodeGrains("node1"), nil)
	if err != nil || len(got) != 0 {
		t.Errorf("Compile = %v, %v; want an empty pillar", got, err)
	}
	root = writeTree(t, map[string]string{"top.sls": ""})
	if got, err := Compile(root, "node1", nil, nil); err != nil || len(got) != 0 {
		t.Errorf("empty top.sls: Compile = %v, %v; want an empty pillar", got, err)
	}
}

func TestYAML11Scalars(t *testing.T) {
	root := writeTree(t, map[string]string{
		"top.sls": "base:\n  '*':\n    - a\n",
		"a.sls":   "enabled: yes\nmode: 0755\nport: 8443\nratio: 1.5\nname: '0755'\n",
	})
	got, err := Compile(root, "node1", nodeGrains("node1"), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"enabled": true, "mode": 493, "port": 8443, "ratio": 1.5, "name": "0755"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("pillar = %#v, want %#v", got, want)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name     string
		files    map[string]string
		id       string
		wantFile string
		wantLine int
		wantMsg  string
	}{
		{
			name:     "missing SLS named in top",
			files:    map[string]string{"top.sls": "base:\n  '*':\n    - exists\n    - nope.deeper\n", "exists.sls": "a: 1\n"},
			wantFile: "top.sls", wantLine: 4,
			wantMsg: "specified SLS 'nope.deeper' in environment 'base' is not available: no nope/deeper.sls or nope/deeper/init.sls",
		},
		{
			name:     "missing SLS ignored when asked",
			files:    map[string]string{"top.sls": "base:\n  '*':\n    - nope\n    - ignore_missing: true\n"},
			wantFile: "",
		},
		{
			name:     "missing include",
			files:    map[string]string{"top.sls": "base:\n  '*':\n    - a\n", "a.sls": "include:\n  - gone\nx: 1\n"},
			wantFile: "a.sls", wantLine: 2,
			wantMsg: "specified SLS 'gone' in environment 'base' is not available",
		},
		{
			name:     "render error names the pillar file",
			files:    map[string]string{"top.sls": "base:\n  '*':\n    - bad\n", "bad.sls": "a: 1\nb: {{ pillar['nope'] }}\n"},
			wantFile: "bad.sls", wantLine: 2,
			wantMsg: "failed to compile pillar: bad.sls: Rendering SLS 'base:bad' failed: Jinja variable 'dict object' has no attribute 'nope'",
		},
		{
			name:     "render error in top.sls",
			files:    map[string]string{"top.sls": "base:\n  {{ grains['nope'] }}:\n    - a\n"},
			wantFile: "top.sls", wantLine: 2,
			wantMsg: "failed to compile pillar: top.sls: ",
		},
		{
			name:     "invalid YAML",
			files:    map[string]string{"top.sls": "base:\n  '*':\n    - bad\n", "bad.sls": "a: [1\n"},
			wantFile: "bad.sls",
			wantMsg:  "bad.sls",
		},
		{
			name:     "SLS not a dictionary",
			files:    map[string]string{"top.sls": "base:\n  '*':\n    - list\n", "list.sls": "\n- a\n- b\n"},
			wantFile: "list.sls", wantLine: 2,
			wantMsg: "SLS 'list' does not render to a dictionary but to a list",
		},
		{
			name:     "top not a mapping",
			files:    map[string]string{"top.sls": "- base\n"},
			wantFile: "top.sls", wantLine: 1,
			wantMsg: "invalid top file: must be a mapping of saltenv to targets, got a list",
		},
		{
			name:     "environment not a mapping",
			files:    map[string]string{"top.sls": "base:\n  - a\n"},
			wantFile: "top.sls", wantLine: 2,
			wantMsg: "invalid top file: saltenv 'base' must map targets to lists of SLS, got a list",
		},
		{
			name:     "target list not a list",
			files:    map[string]string{"top.sls": "base:\n  '*': a\n"},
			wantFile: "top.sls", wantLine: 2,
			wantMsg: "invalid top file: target '*' must have a list of SLS names, got a scalar",
		},
		{
			name:     "bad target expression",
			files:    map[string]string{"top.sls": "base:\n  '*':\n    - a\n  'G@os:Debian and':\n    - b\n"},
			wantFile: "top.sls", wantLine: 4,
			wantMsg: `invalid target expression "G@os:Debian and": column 16: unexpected end of expression`,
		},
		{
			name:     "bad match type",
			files:    map[string]string{"top.sls": "base:\n  'x':\n    - match: nodegroup\n    - a\n"},
			wantFile: "top.sls", wantLine: 3,
			wantMsg: "unknown match type 'nodegroup' for target 'x'",
		},
		{
			name:     "unknown top option",
			files:    map[string]string{"top.sls": "base:\n  '*':\n    - a\n    - order: 1\n"},
			wantFile: "top.sls", wantLine: 4,
			wantMsg: `unknown option "order"`,
		},
		{
			// One environment per run, as Salt with pillarenv pinned:
			// other environments' entries are skipped (slstree.Top).
			name:     "other environment skipped",
			files:    map[string]string{"top.sls": "dev:\n  '*':\n    - a\n"},
			wantFile: "",
		},
		{
			name:     "include not a list",
			files:    map[string]string{"top.sls": "base:\n  '*':\n    - a\n", "a.sls": "x: 1\ninclude: b\n"},
			wantFile: "a.sls", wantLine: 2,
			wantMsg: "include must be a list of SLS names",
		},
		{
			name:     "relative include beyond the root",
			files:    map[string]string{"top.sls": "base:\n  '*':\n    - a\n", "a.sls": "include:\n  - ..b\n"},
			wantFile: "a.sls", wantLine: 2,
			wantMsg: `relative include "..b" in SLS 'a' goes beyond the top of the pillar root`,
		},
		{
			name:     "unsupported include option",
			files:    map[string]string{"top.sls": "base:\n  '*':\n    - a\n", "a.sls": "include:\n  - b:\n      defaults: {x: 1}\n", "b.sls": ""},
			wantFile: "a.sls", wantLine: 3,
			wantMsg: `include option "defaults" of "b" is not supported`,
		},
		{
			name:     "glob include matching nothing",
			files:    map[string]string{"top.sls": "base:\n  '*':\n    - a\n", "a.sls": "include:\n  - users.*\n"},
			wantFile: "a.sls", wantLine: 2,
			wantMsg: "specified SLS 'users.*' in environment 'base' matches no pillar SLS",
		},
		{
			name:     "error in an included file",
			files:    map[string]string{"top.sls": "base:\n  '*':\n    - a\n", "a.sls": "include:\n  - sub.b\n", "sub/b/init.sls": "- x\n"},
			wantFile: "sub/b/init.sls", wantLine: 1,
			wantMsg: "SLS 'sub.b' does not render to a dictionary",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := writeTree(t, tt.files)
			id := tt.id
			if id == "" {
				id = "node1"
			}
			_, err := Compile(root, id, nodeGrains(id), map[string]any{"secret": "hunter2"})
			if tt.wantFile == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %v (%T) is not a *pillar.Error", err, err)
			}
			if pe.File != tt.wantFile || (tt.wantLine != 0 && pe.Line != tt.wantLine) {
				t.Errorf("error at %s:%d, want %s:%d (%v)", pe.File, pe.Line, tt.wantFile, tt.wantLine, err)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q does not contain %q", err, tt.wantMsg)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error leaks a pillar value: %v", err)
			}
		})
	}
}

func TestMerge(t *testing.T) {
	tests := []struct {
		name     string
		dst, src map[string]any
		want     map[string]any
	}{
		{"nil dst", nil, map[string]any{"a": 1}, map[string]any{"a": 1}},
		{"nested", map[string]any{"a": map[string]any{"b": 1, "c": []any{1}}}, map[string]any{"a": map[string]any{"c": []any{2}, "d": nil}},
			map[string]any{"a": map[string]any{"b": 1, "c": []any{2}, "d": nil}}},
		{"dict replaces scalar", map[string]any{"a": 1}, map[string]any{"a": map[string]any{"b": 1}}, map[string]any{"a": map[string]any{"b": 1}}},
		{"scalar replaces dict", map[string]any{"a": map[string]any{"b": 1}}, map[string]any{"a": "x"}, map[string]any{"a": "x"}},
		{"null replaces", map[string]any{"a": map[string]any{"b": 1}}, map[string]any{"a": nil}, map[string]any{"a": nil}},
	}
	for _, tt := range tests {
		if got := Merge(tt.dst, tt.src); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: Merge = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestRelativeSLS(t *testing.T) {
	tests := []struct{ sls, file, name, want, err string }{
		{"a.b", "a/b.sls", ".c", "a.c", ""},
		{"a.b", "a/b/init.sls", ".c", "a.b.c", ""},
		{"a.b", "a/b.sls", "..c", "c", ""},
		{"a.b", "a/b/init.sls", "..c", "a.c", ""},
		{"a", "a.sls", "..c", "", "goes beyond"},
		{"a", "a.sls", "x/y", "x.y", ""},
		{"a", "a.sls", "x..y", "", "invalid SLS name"},
	}
	for _, tt := range tests {
		got, err := relativeSLS(tt.sls, tt.file, tt.name)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("relativeSLS(%q, %q, %q) error = %v, want %q", tt.sls, tt.file, tt.name, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("relativeSLS(%q, %q, %q) = %q, %v; want %q", tt.sls, tt.file, tt.name, got, err, tt.want)
		}
	}
}

func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, body := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}
