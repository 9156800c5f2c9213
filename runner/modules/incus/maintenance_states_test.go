package incus_test

import (
	"path/filepath"
	"testing"

	"github.com/statectl/statectl/runner/golden"
	"github.com/statectl/statectl/runner/incusconn"
	"github.com/statectl/statectl/runner/module"
	cmdmod "github.com/statectl/statectl/runner/modules/cmd"
	incusmod "github.com/statectl/statectl/runner/modules/incus"
)

// TestShippedMaintenance renders incus.maintenance (the rolling update of
// one member) for each pillars.example scenario that has members: with
// the maintenance scenario's command, hold (node2) and restore (node3)
// keys, and without any maintenance pillar (basic: no command state).
func TestShippedMaintenance(t *testing.T) {
	reg := module.NewRegistry(incusmod.New(nil, incusconn.Options{}), cmdmod.New())
	for _, tc := range []struct{ scenario, id, ip string }{
		{"maintenance", "node1", "192.168.1.101"},
		{"maintenance", "node2", "192.168.1.102"},
		{"maintenance", "node3", "192.168.1.103"},
		{"basic", "node2", "192.168.1.102"},
	} {
		t.Run(tc.scenario+"/"+tc.id, func(t *testing.T) {
			grains := map[string]any{"id": tc.id, "incus_scenario": tc.scenario, "ipv4": []any{tc.ip, "127.0.0.1"}}
			got := renderShipped(t, reg, tc.id, grains, "incus.maintenance")
			golden.Check(t, filepath.Join(repo, "testdata", "incus", "states", "maintenance-sls_"+tc.scenario+"_"+tc.id+".golden"), []byte(got))
		})
	}
}
