package incus_test

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
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

// The seed guide's pillars, as printed with the lab's addresses, live in
// testdata/incus/seed (see its README.md).
const seedDir = repo + "/testdata/incus/seed"

// seedPillarDir writes a pillar tree: secrets.sls plus the given seed
// files (name -> content) for every target ('*'), or per target when
// perTarget maps a target to its file.
func seedPillarDir(t *testing.T, files map[string]string, perTarget map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	top := "base:\n  '*':\n    - secrets\n"
	if perTarget == nil {
		for _, name := range slices.Sorted(maps.Keys(files)) {
			top += "    - " + strings.TrimSuffix(name, ".sls") + "\n"
		}
	}
	for _, tgt := range slices.Sorted(maps.Keys(perTarget)) {
		top += fmt.Sprintf("  '%s':\n    - %s\n", tgt, strings.TrimSuffix(perTarget[tgt], ".sls"))
	}
	secrets, err := os.ReadFile(filepath.Join(seedDir, "secrets.sls"))
	if err != nil {
		t.Fatal(err)
	}
	files["secrets.sls"], files["top.sls"] = string(secrets), top
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func readSeed(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(seedDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestSeedPillarsRender renders the shipped states for every member each
// seed pillar names (offline: no daemon grains) and compares what each
// renders with testdata/incus/seed/render.golden.
func TestSeedPillarsRender(t *testing.T) {
	reg := module.NewRegistry(incusmod.New(nil, incusconn.Options{}))
	cases := []struct {
		scenario  string
		files     []string
		perTarget map[string]string
		ids       []string
	}{
		{"steps", []string{"steps_node1.sls", "steps_node2.sls"},
			map[string]string{"node1": "steps_node1.sls", "node2": "steps_node2.sls", "node3": "steps_node2.sls"},
			[]string{"node1", "node2", "node3"}},
		{"basic", []string{"basic.sls"}, nil, []string{"node1", "node2", "node3", "node4"}},
		{"large", []string{"large.sls"}, nil, []string{"node-01", "node-02", "node-03", "node-04", "node-05"}},
		{"hybrid", []string{"hybrid.sls"}, nil, []string{"compute-01", "compute-02", "storage-01", "storage-02", "network-01"}},
		{"grains", []string{"grains.sls"}, nil, []string{"incus-node1", "incus-node2", "incus-node3"}},
		{"storage", []string{"storage.sls"}, nil, []string{"node1"}},
		{"networks", []string{"networks.sls"}, nil, []string{"node1"}},
	}
	// Addresses of the targets, as a roster's ipv4 grain gives them.
	ips := map[string]string{"node1": "127.0.0.11", "node2": "127.0.0.12", "node3": "127.0.0.13", "node4": "127.0.0.14",
		"node-01": "127.0.0.101", "node-02": "127.0.0.102", "node-03": "127.0.0.103", "node-04": "127.0.0.104", "node-05": "127.0.0.105",
		"compute-01": "127.0.0.101", "compute-02": "127.0.0.102", "storage-01": "127.0.0.111", "storage-02": "127.0.0.112",
		"network-01": "127.0.0.121", "incus-node1": "127.0.0.11", "incus-node2": "127.0.0.12", "incus-node3": "127.0.0.13"}
	var b strings.Builder
	for _, tc := range cases {
		files := map[string]string{}
		for _, f := range tc.files {
			files[f] = readSeed(t, f)
		}
		dir := seedPillarDir(t, files, tc.perTarget)
		for _, id := range tc.ids {
			grains := map[string]any{"id": id, "ipv4": []any{ips[id]}}
			pil, err := pillar.Compile(dir, id, grains, nil)
			if err != nil {
				t.Fatalf("%s/%s: pillar: %v", tc.scenario, id, err)
			}
			c, err := compile.SLS(compile.Options{
				Root:     filepath.Join(repo, "states"),
				Target:   &target.Subject{ID: id, Grains: grains, Pillar: pil},
				Registry: reg,
			}, "incus")
			if err != nil {
				t.Fatalf("%s/%s: %v", tc.scenario, id, err)
			}
			fmt.Fprintf(&b, "%s/%s:", tc.scenario, id)
			if len(c.States) == 0 {
				b.WriteString(" (no states)")
			}
			for _, s := range c.States {
				fmt.Fprintf(&b, " %s.%s", s.Module, s.Function)
				if v, ok := s.Args["cluster"]; ok {
					fmt.Fprintf(&b, " via %v", v)
				}
				if v, ok := s.Args["address"]; ok {
					fmt.Fprintf(&b, " at %v", v)
				}
				b.WriteString(";")
			}
			b.WriteString("\n")
		}
	}
	golden.Check(t, filepath.Join(seedDir, "render.golden"), []byte(b.String()))
}

// labSeed is a seed file with the lab's addresses (its 127.0.S.* prefix
// instead of 127.0.0.*) and the lab's member names.
func labSeed(t *testing.T, e *cliEnv, name string, names *strings.Replacer) string {
	t.Helper()
	host := strings.Split(e.addr("node1"), ":")[0] // 127.0.S.11
	prefix := host[:strings.LastIndex(host, ".")+1]
	body := strings.ReplaceAll(readSeed(t, name), "127.0.0.", prefix)
	if names != nil {
		body = names.Replace(body)
	}
	return body
}

func (c *cliEnv) writeSeedPillar(files map[string]string) {
	c.t.Helper()
	dir := seedPillarDir(c.t, files, nil)
	entries, err := os.ReadDir(dir)
	if err != nil {
		c.t.Fatal(err)
	}
	old, _ := filepath.Glob(filepath.Join(c.pillar, "*.sls"))
	for _, f := range old {
		_ = os.Remove(f)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			c.t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(c.pillar, e.Name()), b, 0o644); err != nil {
			c.t.Fatal(err)
		}
	}
}

// TestSeedBasicClusterFormsOnLab applies the shipped states with the
// guide's "Basic 3-Node Cluster" pillar as printed (lab addresses, no
// incus:cluster:bootstrap) to node1, node2, node3 in that order: node1
// bootstraps (its pillar has incus_bootstrap and its address is the
// cluster.https_address), node2 and node3 join through the roster entry
// at that address. Before, node2 joined "through node3" and failed.
func TestSeedBasicClusterFormsOnLab(t *testing.T) {
	t.Parallel()
	c := newCLIEnv(t, 3)
	c.writeSeedPillar(map[string]string{"cluster.sls": labSeed(t, c, "basic.sls", nil)})
	for _, id := range []string{"node1", "node2", "node3"} {
		if r := c.statectl("apply", id); r.code != 0 {
			t.Fatalf("apply %s: exit %d\n%s\n%s", id, r.code, r.stdout, r.stderr)
		}
	}
	got := members(t, c.client("node1"))
	for id, desc := range map[string]string{"node1": "", "node2": "Cluster node 2", "node3": "Cluster node 3"} {
		if m, ok := got[id]; !ok || m.Status != "Online" || m.Description != desc {
			t.Fatalf("member %s: %+v (all: %v)", id, m, got)
		}
	}
	if len(got) != 3 {
		t.Fatalf("cluster has %d members, want 3: %v", len(got), got)
	}
	c.converged()
}

// TestSeedGrainsPillarOnLab is the guide's "Per-Node Configuration with
// Grains" pillar (lab names and addresses): node1 bootstraps, but a
// joiner's pillar says nothing of the bootstrap member, so the join
// cannot be inferred: the error names the pillar key to add, and with
// that key the members join.
func TestSeedGrainsPillarOnLab(t *testing.T) {
	t.Parallel()
	c := newCLIEnv(t, 3)
	names := strings.NewReplacer("incus-node", "node")
	seed := labSeed(t, c, "grains.sls", names)
	c.writeSeedPillar(map[string]string{"cluster.sls": seed})
	if r := c.statectl("apply", "node1"); r.code != 0 {
		t.Fatalf("apply node1: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	r := c.statectl("apply", "node2")
	if r.code == 0 || r.writes != 0 || !strings.Contains(r.stdout+r.stderr, "incus:cluster:bootstrap") {
		t.Fatalf("apply node2 without a bootstrap member: exit %d, %d writes, want a failure naming incus:cluster:bootstrap\n%s\n%s",
			r.code, r.writes, r.stdout, r.stderr)
	}
	c.writeSeedPillar(map[string]string{"cluster.sls": seed, "name.sls": "incus:\n  cluster:\n    bootstrap: node1\n"})
	for _, id := range []string{"node2", "node3"} {
		if r := c.statectl("apply", id); r.code != 0 {
			t.Fatalf("apply %s: exit %d\n%s\n%s", id, r.code, r.stdout, r.stderr)
		}
	}
	if got := members(t, c.client("node1")); len(got) != 3 {
		t.Fatalf("cluster has %d members, want 3: %v", len(got), got)
	}
}
