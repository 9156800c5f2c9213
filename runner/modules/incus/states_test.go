package incus_test

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/statectl/statectl/runner/compile"
	"github.com/statectl/statectl/runner/golden"
	"github.com/statectl/statectl/runner/incusconn"
	"github.com/statectl/statectl/runner/module"
	incusmod "github.com/statectl/statectl/runner/modules/incus"
	"github.com/statectl/statectl/runner/pillar"
	"github.com/statectl/statectl/runner/target"
)

const repo = "../../.."

// TestShippedStates renders and compiles the shipped states for every
// pillars.example scenario and target, validating each state against the
// module offline, and compares the compiled states with golden files.
func TestShippedStates(t *testing.T) {
	reg := module.NewRegistry(incusmod.New(nil, incusconn.Options{}))
	// Targets per scenario, with their first ipv4 grain.
	cases := []struct {
		scenario string
		ids      []string
		ips      []string
	}{
		{"steps", []string{"node1", "node2"}, []string{"192.168.1.101", "192.168.1.102"}},
		{"basic", []string{"node1", "node2", "node3"}, []string{"192.168.1.101", "192.168.1.102", "192.168.1.103"}},
		{"large", []string{"node-01", "node-02", "node-05"}, []string{"172.16.0.101", "172.16.0.102", "172.16.0.105"}},
		{"hybrid", []string{"compute-01", "storage-01", "network-01"}, []string{"10.0.1.101", "10.0.1.111", "10.0.1.121"}},
		{"grains", []string{"incus-node1", "incus-node2", "incus-node4"}, []string{"10.1.0.11", "10.1.0.12", "10.1.0.14"}},
		{"shared", []string{"node1", "node2"}, []string{"192.168.1.101", "192.168.1.102"}},
		{"maintenance", []string{"node1", "node2", "node3"}, []string{"192.168.1.101", "192.168.1.102", "192.168.1.103"}},
	}
	for _, tc := range cases {
		for i, id := range tc.ids {
			t.Run(tc.scenario+"/"+id, func(t *testing.T) {
				grains := map[string]any{
					"id": id, "incus_scenario": tc.scenario,
					"ipv4": []any{tc.ips[i], "127.0.0.1"},
				}
				got := renderShipped(t, reg, id, grains, "incus")
				golden.Check(t, filepath.Join(repo, "testdata", "incus", "states", tc.scenario+"_"+id+".golden"), []byte(got))
			})
		}
	}
}

// renderShipped compiles the shipped SLS sls for target id, validating each
// state against the module offline, and prints the states and their
// arguments (secrets masked) for a golden file.
func renderShipped(t *testing.T, reg *module.Registry, id string, grains map[string]any, sls string) string {
	t.Helper()
	pil, err := pillar.Compile(filepath.Join(repo, "pillars.example"), id, grains, nil)
	if err != nil {
		t.Fatalf("pillar: %v", err)
	}
	c, err := compile.SLS(compile.Options{
		Root:     filepath.Join(repo, "states"),
		Target:   &target.Subject{ID: id, Grains: grains, Pillar: pil},
		Registry: reg,
	}, sls)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	var b strings.Builder
	for _, s := range c.States {
		_, spec, _ := reg.Func(s.Module, s.Function)
		fmt.Fprintf(&b, "%s: %s.%s\n", s.ID, s.Module, s.Function)
		keys := make([]string, 0, len(s.Args))
		for k := range s.Args {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			v := s.Args[k]
			if a, ok := spec.Arg(k); ok && a.Secret {
				v = "<secret>"
			}
			if cfg, ok := v.(map[string]any); ok {
				v = maskPasswords(cfg)
			}
			var data strings.Builder
			enc := json.NewEncoder(&data)
			enc.SetEscapeHTML(false)
			_ = enc.Encode(v)
			fmt.Fprintf(&b, "  %s: %s", k, data.String())
		}
	}
	return b.String()
}

// maskPasswords keeps example passwords out of golden files.
func maskPasswords(cfg map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range cfg {
		if strings.Contains(k, "password") {
			v = "<secret>"
		}
		out[k] = v
	}
	return out
}
