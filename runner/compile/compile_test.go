package compile

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/statectl/statectl/runner/golden"
	"github.com/statectl/statectl/runner/state"
	"github.com/statectl/statectl/runner/target"
)

// testdata is the repository's top-level testdata/compile.
const testdata = "../../testdata/compile"

// dump renders a compiled run as stable text for golden files.
func dump(c *state.Compiled) string {
	var b strings.Builder
	for i, st := range c.States {
		fmt.Fprintf(&b, "%d %s.%s id=%s name=%s sls=%s %s:%d", i, st.Module, st.Function, st.ID, st.Name, st.SLS, st.File, st.Line)
		switch {
		case st.OrderFirst:
			b.WriteString(" order=first")
		case st.OrderLast:
			b.WriteString(" order=last")
		case st.Order > 0:
			fmt.Fprintf(&b, " order=%d", st.Order)
		}
		if st.Failhard {
			b.WriteString(" failhard")
		}
		if st.Timeout > 0 {
			fmt.Fprintf(&b, " timeout=%s", st.Timeout)
		}
		b.WriteString("\n")
		if len(st.ArgOrder) != len(st.Args) {
			fmt.Fprintf(&b, "    !! ArgOrder has %d keys, Args %d\n", len(st.ArgOrder), len(st.Args))
		}
		for _, k := range st.ArgOrder {
			v, _ := json.Marshal(st.Args[k])
			fmt.Fprintf(&b, "    %s=%s\n", k, v)
		}
		for _, e := range st.Deps {
			fmt.Fprintf(&b, "    %s -> %d %s\n", e.Kind, e.Index, c.States[e.Index].ID)
		}
	}
	return b.String()
}

// checkEdges asserts the invariant every compiled run must hold: each
// requisite runs before its dependent, and a prereq-ing state runs before
// the state it names.
func checkEdges(t *testing.T, c *state.Compiled) {
	t.Helper()
	for i, st := range c.States {
		for _, e := range st.Deps {
			if e.Kind == state.Prereq && e.Index <= i {
				t.Errorf("state %d %s runs after %d %s it prereqs", i, st.ID, e.Index, c.States[e.Index].ID)
			}
			if e.Kind != state.Prereq && e.Index >= i {
				t.Errorf("state %d %s runs before its requisite %d %s", i, st.ID, e.Index, c.States[e.Index].ID)
			}
		}
	}
}

func TestCompileGolden(t *testing.T) {
	tests := []struct {
		dir  string
		sls  []string
		high bool // compile through top.sls instead of sls
	}{
		{dir: "includes", sls: []string{"app"}},
		{dir: "forms", sls: []string{"forms"}},
		{dir: "requisites", sls: []string{"req"}},
		{dir: "order", sls: []string{"order"}},
		{dir: "extend", sls: []string{"ext"}},
		{dir: "keywords", sls: []string{"keywords"}},
		{dir: "top", high: true},
		{dir: "jinja", sls: []string{"incus.cluster"}},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			root := filepath.Join(testdata, tt.dir)
			opts := Options{Root: root, Registry: testRegistry(),
				Target: &target.Subject{ID: "node2", Grains: map[string]any{"id": "node2", "role": "web"}, Pillar: map[string]any{
					"incus": map[string]any{"apply": true, "cluster_members": map[string]any{
						"node3": map[string]any{"address": "192.168.1.103", "cluster_password": "yes"},
						"node2": map[string]any{"address": "192.168.1.102", "cluster_password": "s3cret: x"},
					}}}}}
			var c *state.Compiled
			var err error
			if tt.high {
				c, err = Highstate(opts)
			} else {
				c, err = SLS(opts, tt.sls...)
			}
			if err != nil {
				t.Fatalf("compile: %v", err)
			}
			checkEdges(t, c)
			golden.Check(t, filepath.Join(root, "compiled.golden"), []byte(dump(c)))
		})
	}
}
