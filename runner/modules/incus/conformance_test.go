package incus_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/statectl/statectl/runner/module"
	"github.com/statectl/statectl/runner/module/conformance"
)

// TestConformance holds the incus module to the suite every module passes
// (the file plugin and testmod run it too), on a real incusd: settings
// functions on one member, a concurrent edit between plan and apply
// refused by the ETag.
func TestConformance(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 1)
	c := e.client("node1")
	conformance.Run(t, conformance.Case{
		Module: e.mod,
		Target: &module.Target{Name: "node1"},
		Steps: []conformance.Step{
			{Function: "settings_present", Args: map[string]any{"name": "present",
				"config": map[string]any{"user.conformance": "one", "images.auto_update_interval": 0}}},
			{Function: "settings_config", Args: map[string]any{"name": "config", "key": "user.other", "value": "x"}},
			{Function: "settings_absent", Args: map[string]any{"name": "absent", "key": "user.never"}, Converged: true},
		},
		Invalid: []conformance.Step{
			{Function: "settings_config", Args: map[string]any{"name": "novalue", "key": "user.other"}},
			{Function: "settings_present", Args: map[string]any{"name": "notamap", "config": "user.x=1"}},
			{Function: "settings_present", Args: map[string]any{"name": "badkey", "config": map[string]any{"": "x"}}},
			{Function: "nosuch_function", Args: map[string]any{"name": "nosuch"}},
		},
		Snapshot: func(t testing.TB) string {
			srv, _, err := c.GetServer()
			if err != nil {
				t.Fatal(err)
			}
			keys := make([]string, 0, len(srv.Config))
			for k := range srv.Config {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			var b strings.Builder
			for _, k := range keys {
				fmt.Fprintf(&b, "%s=%v; ", k, srv.Config[k])
			}
			return b.String()
		},
		Stale: func(t testing.TB) {
			srv, etag, err := c.GetServer()
			if err != nil {
				t.Fatal(err)
			}
			put := srv.Writable()
			put.Config["user.conformance"] = "edited behind statectl's back"
			if err := c.UpdateServer(put, etag); err != nil {
				t.Fatal(err)
			}
		},
	})
}
