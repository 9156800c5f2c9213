package compile

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/statectl/statectl/runner/module"
	"github.com/statectl/statectl/runner/render"
	"github.com/statectl/statectl/runner/target"
	"gopkg.in/yaml.v3"
)

// writeTree writes files (path -> content) below a temp dir.
func writeTree(t testing.TB, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, content := range files {
		full := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestSuggest(t *testing.T) {
	tests := []struct {
		word  string
		cands []string
		want  []string
	}{
		{"adress", []string{"address", "force", "port"}, []string{"address"}},
		{"tset", []string{"demo", "pkg", "test"}, []string{"test"}},
		{"zzzzzz", []string{"address", "force"}, nil},
		{"incus.cluster_member", []string{"incus.cluster_member_present", "incus.cluster_member_absent", "incus.settings"},
			[]string{"incus.cluster_member_absent", "incus.cluster_member_present"}},
	}
	for _, tt := range tests {
		if got := suggest(tt.word, tt.cands); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("suggest(%q) = %q, want %q", tt.word, got, tt.want)
		}
	}
}

func TestTypeOK(t *testing.T) {
	tests := []struct {
		typ  module.ArgType
		v    any
		want bool
	}{
		{module.TypeString, "x", true},
		{module.TypeString, 8443, true}, // numbers are accepted as strings
		{module.TypeString, []any{"x"}, false},
		{module.TypeBool, true, true},
		{module.TypeBool, "true", false},
		{module.TypeInt, 3, true},
		{module.TypeInt, 3.5, false},
		{module.TypeInt, "3", false},
		{module.TypeList, []any{1}, true},
		{module.TypeList, map[string]any{}, false},
		{module.TypeMap, map[string]any{"a": 1}, true},
		{module.TypeMap, []any{}, false},
		{module.TypeStringList, "a", true},
		{module.TypeStringList, []any{"a", 1}, true},
		{module.TypeStringList, []any{"a", []any{}}, false},
		{module.TypeStringList, 3, false},
		{module.TypeAny, []any{map[string]any{}}, true},
	}
	for _, tt := range tests {
		if got := tt.typ.Accepts(tt.v); got != tt.want {
			t.Errorf("%s.Accepts(%#v) = %v, want %v", tt.typ, tt.v, got, tt.want)
		}
	}
}

func TestTopSLS(t *testing.T) {
	root := filepath.Join(testdata, "top")
	tests := []struct {
		id     string
		grains map[string]any
		want   []string
	}{
		{"node2", map[string]any{"role": "web"}, []string{"common", "cluster", "web"}},
		{"node1", map[string]any{"role": "db"}, []string{"common", "other", "cluster"}},
		{"node9", nil, []string{"common", "cluster"}},
		{"x", nil, []string{"common"}},
	}
	for _, tt := range tests {
		got, err := TopSLS(Options{Root: root, Target: &target.Subject{ID: tt.id, Grains: tt.grains}})
		if err != nil {
			t.Fatalf("%s: %v", tt.id, err)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("TopSLS(%s) = %q, want %q", tt.id, got, tt.want)
		}
	}
	// A saltenv selects its own section.
	got, err := TopSLS(Options{Root: root, Saltenv: "dev", Target: &target.Subject{ID: "x"}})
	if err != nil || !reflect.DeepEqual(got, []string{"devonly"}) {
		t.Errorf("TopSLS(dev) = %q, %v; want [devonly]", got, err)
	}
}

// countingRenderer counts renders per file.
type countingRenderer struct {
	inner FileRenderer
	mu    sync.Mutex
	n     map[string]int
}

func (r *countingRenderer) RenderFile(rel string, ctx *render.Context) (*yaml.Node, error) {
	r.mu.Lock()
	r.n[rel]++
	r.mu.Unlock()
	return r.inner.RenderFile(rel, ctx)
}

// TestRenderOnce: a file included from several places, and named again
// on the command line, is rendered once, with its own SLS name.
func TestRenderOnce(t *testing.T) {
	root := writeTree(t, map[string]string{
		"a.sls":        "include: [common, b]\na-1: test.nop\n",
		"b/init.sls":   "include: [common, .c]\nb-1: test.nop\n",
		"b/c.sls":      "include: [..common]\nc-1: test.nop\n",
		"common.sls":   "common-1: test.nop\n",
		"unused.sls":   "unused: test.nop\n",
		"b/common.sls": "never: test.nop\n",
	})
	cr := &countingRenderer{inner: render.New(root), n: map[string]int{}}
	c, err := SLS(Options{Root: root, Registry: testRegistry(), Renderer: cr}, "a", "common", "b")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"a.sls": 1, "b/init.sls": 1, "b/c.sls": 1, "common.sls": 1}
	if !reflect.DeepEqual(cr.n, want) {
		t.Errorf("renders = %v, want %v", cr.n, want)
	}
	var ids []string
	for _, st := range c.States {
		ids = append(ids, st.ID+"@"+st.SLS)
	}
	if got := strings.Join(ids, " "); got != "common-1@common c-1@b.c b-1@b a-1@a" {
		t.Errorf("order = %s", got)
	}
}

func TestRequisiteForms(t *testing.T) {
	root := writeTree(t, map[string]string{
		"r.sls": `
self:
  test.nop:
    - require:
      - sls: r
other:
  test.nop:
    - names:
      - n1
      - n2
by-name:
  test.nop:
    - require:
      - test: n2
by-id:
  test.nop:
    - require:
      - other
pkgs:
  pkg.installed:
    - name: other
any-module:
  test.nop:
    - watch: other
per-name:
  test.nop:
    - names:
      - pn1:
        - require:
          - test: by-name
      - pn2
`,
	})
	c, err := SLS(Options{Root: root, Registry: testRegistry()}, "r")
	if err != nil {
		t.Fatal(err)
	}
	deps := map[string]string{}
	for _, st := range c.States {
		var ds []string
		for _, e := range st.Deps {
			d := c.States[e.Index]
			ds = append(ds, fmt.Sprintf("%s:%s/%s", e.Kind, d.Module, d.Name))
		}
		deps[st.ID+"/"+st.Name] = strings.Join(ds, ",")
	}
	want := map[string]string{
		// sls: r includes every state of r but itself.
		"self/self":             "require:test/n1,require:test/n2,require:test/by-name,require:test/by-id,require:pkg/other,require:test/any-module,require:test/pn1,require:test/pn2",
		"other/n1":              "",
		"other/n2":              "",
		"by-name/by-name":       "require:test/n2",
		"by-id/by-id":           "require:test/n1,require:test/n2,require:pkg/other",
		"pkgs/other":            "",
		"any-module/any-module": "watch:test/n1,watch:test/n2,watch:pkg/other",
		"per-name/pn1":          "require:test/by-name",
		"per-name/pn2":          "",
	}
	if !reflect.DeepEqual(deps, want) {
		t.Errorf("deps:\n%v\nwant:\n%v", deps, want)
	}
	checkEdges(t, c)
}

// TestRandomDAGOrder compiles random acyclic requisite graphs, written
// with every requisite form and random order keywords, and checks every
// edge is respected and the result is deterministic.
func TestRandomDAGOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	// For "after" kinds the declaring state runs after the one it names,
	// for "before" kinds before it.
	after := []string{"require", "watch", "onchanges", "onfail", "prereq_in"}
	before := []string{"prereq", "require_in", "watch_in", "onchanges_in", "onfail_in"}
	orders := []string{"", "", "", "first", "last", "1", "5"}
	edges := 0
	for round := 0; round < 30; round++ {
		n := 5 + rng.IntN(40)
		perm := rng.Perm(n) // a hidden topological rank per state
		reqs := make([][]string, n)
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				if perm[j] >= perm[i] || rng.IntN(6) != 0 {
					continue
				}
				// j must run before i.
				edges++
				if rng.IntN(2) == 0 {
					k := after[rng.IntN(len(after))]
					reqs[i] = append(reqs[i], fmt.Sprintf("    - %s:\n      - test: s%d\n", k, j))
				} else {
					k := before[rng.IntN(len(before))]
					reqs[j] = append(reqs[j], fmt.Sprintf("    - %s:\n      - test: s%d\n", k, i))
				}
			}
		}
		var b strings.Builder
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "s%d:\n  test.nop:\n", i)
			if o := orders[rng.IntN(len(orders))]; o != "" {
				fmt.Fprintf(&b, "    - order: %s\n", o)
			}
			for _, r := range reqs[i] {
				b.WriteString(r)
			}
		}
		root := writeTree(t, map[string]string{"g.sls": b.String()})
		c1, err := SLS(Options{Root: root, Registry: testRegistry()}, "g")
		if err != nil {
			t.Fatalf("round %d: %v\n%s", round, err, b.String())
		}
		if len(c1.States) != n {
			t.Fatalf("round %d: %d states, want %d", round, len(c1.States), n)
		}
		checkEdges(t, c1)
		c2, _ := SLS(Options{Root: root, Registry: testRegistry()}, "g")
		if dump(c1) != dump(c2) {
			t.Fatalf("round %d: order not deterministic", round)
		}
	}
	if edges < 100 {
		t.Fatalf("only %d edges generated; the test checks too little", edges)
	}
}

// TestValidateCall checks what a module's Validate receives.
func TestValidateCall(t *testing.T) {
	var calls []*module.Call
	m := &fakeModule{name: "probe", funcs: []module.FuncSpec{{Name: "fn", Args: []module.ArgSpec{{Name: "a", Type: module.TypeInt}}}},
		validate: func(c *module.Call) error { calls = append(calls, c); return nil }}
	root := writeTree(t, map[string]string{"p.sls": "pid:\n  probe.fn:\n    - name: nm\n    - a: 3\n    - require: [other]\n    - order: 1\nother: probe.fn\n"})
	if _, err := SLS(Options{Root: root, Registry: module.NewRegistry(m), Target: &target.Subject{ID: "node2"}}, "p"); err != nil {
		t.Fatal(err)
	}
	want := &module.Call{ID: "pid", SLS: "p", Function: "fn", Name: "nm", Args: map[string]any{"name": "nm", "a": 3}, Target: &module.Target{Name: "node2"}}
	if len(calls) != 2 || !reflect.DeepEqual(calls[0], want) {
		t.Errorf("calls = %d, calls[0] = %+v, want %+v", len(calls), calls[0], want)
	}
}

func subjectFor(id string) *target.Subject {
	return &target.Subject{ID: id, Grains: map[string]any{"id": id}, Pillar: map[string]any{}}
}

// TestTopIgnoreMissing: the state top file honours `- ignore_missing: true`
// as the pillar top file does (one top file semantics, slstree.Top).
func TestTopIgnoreMissing(t *testing.T) {
	root := writeTree(t, map[string]string{
		"top.sls": "base:\n  '*':\n    - a\n    - gone\n    - ignore_missing: true\n",
		"a.sls":   "a-1: test.nop\n",
	})
	c, err := Highstate(Options{Root: root, Registry: testRegistry(), Target: &target.Subject{ID: "n1"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.States) != 1 || c.States[0].ID != "a-1" {
		t.Errorf("states = %+v, want a-1 only", c.States)
	}
}
