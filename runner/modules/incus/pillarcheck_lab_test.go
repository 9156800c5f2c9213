package incus_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/statectl/statectl/runner/compile"
	"github.com/statectl/statectl/runner/incusconn"
	"github.com/statectl/statectl/runner/module"
	incusmod "github.com/statectl/statectl/runner/modules/incus"
	"github.com/statectl/statectl/runner/target"
	"gopkg.in/yaml.v3"
)

// pillarTypos are pillars with one misspelt key and the error the shipped
// states must give: before map.jinja checked its pillar, each rendered
// zero states (or dropped the key) and a run exited 0.
var pillarTypos = []struct {
	name, pillar, want string
}{
	{"members", "incus:\n  cluster_membres:\n    node1: {address: 10.0.0.1}\n",
		"unknown pillar key incus:cluster_membres (did you mean incus:cluster_members?)"},
	{"settings", "incus:\n  server_setings:\n    config: {user.x: y}\n",
		"unknown pillar key incus:server_setings (did you mean incus:server_settings?)"},
	{"config", "incus:\n  server_settings:\n    confg: {user.x: y}\n",
		"unknown pillar key incus:server_settings:confg (did you mean incus:server_settings:config?)"},
	{"member field", "incus:\n  cluster_members:\n    node1: {adress: 10.0.0.1}\n",
		"unknown pillar key incus:cluster_members:node1:adress (did you mean incus:cluster_members:node1:address?)"},
	{"cluster", "incus:\n  cluster: {bootstap: node1}\n",
		"unknown pillar key incus:cluster:bootstap (did you mean incus:cluster:bootstrap?)"},
	{"guide tree", "incus_bootstrp:\n  server_settings:\n    config: {user.x: y}\n",
		"unknown pillar key incus_bootstrp (did you mean incus_bootstrap?)"},
	{"guide tree key", "incus_cluster:\n  cluster_member:\n    node2: {address: 10.0.0.2}\n",
		"unknown pillar key incus_cluster:cluster_member (did you mean incus_cluster:cluster_members?)"},
	{"pool field", "incus:\n  storage_pools:\n    local: {drivr: dir}\n",
		"unknown pillar key incus:storage_pools:local:drivr (did you mean incus:storage_pools:local:driver?)"},
	{"network field", "incus:\n  networks:\n    br0: {network_tpye: bridge}\n",
		"unknown pillar key incus:networks:br0:network_tpye (did you mean incus:networks:br0:network_type?)"},
	{"far off", "incus:\n  zzz: 1\n",
		"unknown pillar key incus:zzz; the incus states read incus:{server_settings, cluster_members, cluster, storage_pools, networks, maintenance}"},
	{"not a mapping", "incus: [a]\n", "pillar key incus must be a mapping of server_settings"},
}

// TestShippedStatesRejectPillarTypos renders the shipped states offline
// with each typo; accepted keys (the guide's storage_pools and networks,
// the lab's cluster:name) still render.
func TestShippedStatesRejectPillarTypos(t *testing.T) {
	reg := module.NewRegistry(incusmod.New(nil, incusconn.Options{}))
	render := func(t *testing.T, pil string) error {
		var p map[string]any
		if err := yaml.Unmarshal([]byte(pil), &p); err != nil {
			t.Fatal(err)
		}
		grains := map[string]any{"id": "node1", "ipv4": []any{"10.0.0.1"}}
		_, err := compile.SLS(compile.Options{
			Root:     filepath.Join(repo, "states"),
			Target:   &target.Subject{ID: "node1", Grains: grains, Pillar: p},
			Registry: reg,
		}, "incus")
		return err
	}
	for _, tc := range pillarTypos {
		t.Run(tc.name, func(t *testing.T) {
			err := render(t, tc.pillar)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got error %v\nwant one containing %q", err, tc.want)
			}
		})
	}
	ok := "incus:\n  cluster: {name: lab, bootstrap: node1}\n  storage_pools:\n    local: {driver: dir}\n" +
		"  networks:\n    br0: {network_type: bridge}\n  cluster_members:\n    node1: {address: 10.0.0.1}\n" +
		"incus_scenario: x\ncluster_secret: s\n"
	if err := render(t, ok); err != nil {
		t.Fatalf("known keys: %v", err)
	}
}

// TestApplyRejectsPillarTypoOnLab runs `statectl apply node1` against a
// real daemon with a misspelt pillar: it must fail naming the key, send
// no write, and not report success (before the check: exit 0, no states).
func TestApplyRejectsPillarTypoOnLab(t *testing.T) {
	t.Parallel()
	c := newCLIEnv(t, 1)
	pil := "incus:\n  cluster:\n    bootstrap: node1\n  cluster_membres:\n    node1:\n      address: " + c.addr("node1") + "\n"
	if err := os.WriteFile(filepath.Join(c.pillar, "incus.sls"), []byte(pil), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"apply", "node1"}, {"apply", "node1", "incus.cluster", "--test"}} {
		r := c.statectl(args...)
		if r.code == 0 || r.writes != 0 || !strings.Contains(r.stdout+r.stderr, "did you mean incus:cluster_members?") {
			t.Fatalf("statectl %s: exit %d, %d writes, want a failure naming the key\n%s\n%s",
				strings.Join(args, " "), r.code, r.writes, r.stdout, r.stderr)
		}
	}
}
