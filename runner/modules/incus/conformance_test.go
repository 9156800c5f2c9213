package incus_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/lxc/incus/v6/shared/api"

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

// TestConformanceMembership holds the membership functions to the same
// suite on a real 3-member lab: bootstrap, two joins through the target,
// a member update and a removal that is already converged. Plan must not
// change the membership or the cluster's config, in test mode or not.
func TestConformanceMembership(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 3)
	c := e.client("node1")
	tok := (&api.ClusterMemberJoinToken{ServerName: "node9", Fingerprint: "ab", Addresses: []string{"127.0.0.1:8443"}, Secret: "s"}).String()
	conformance.Run(t, conformance.Case{
		Module: e.mod,
		Target: &module.Target{Name: "node1"},
		Steps: []conformance.Step{
			{Function: "cluster_enabled", Args: map[string]any{"name": "node1", "address": e.addr("node1")}},
			{Function: "cluster_member_present", Args: map[string]any{"name": "node2", "address": e.addr("node2")}},
			{Function: "cluster_member_present", Args: map[string]any{"name": "node3", "address": e.addr("node3"),
				"description": "third", "groups": []any{"default"}}},
			{Function: "cluster_member_present", Args: map[string]any{"name": "node2", "address": e.addr("node2"),
				"description": "second", "config": map[string]any{"user.rack": "r2"}}},
			{Function: "cluster_member_absent", Args: map[string]any{"name": "ghost"}, Converged: true},
		},
		Invalid: []conformance.Step{
			{Function: "cluster_enabled", Args: map[string]any{"name": ""}},
			{Function: "cluster_member_present", Args: map[string]any{"name": "node2"}},
			{Function: "cluster_member_present", Args: map[string]any{"name": "node2", "address": e.addr("node2"), "cluster_token": tok}},
			{Function: "cluster_member_present", Args: map[string]any{"name": "node2", "address": e.addr("node2"),
				"member_config": []any{map[string]any{"entity": "instance", "name": "x", "key": "k", "value": "v"}}}},
			{Function: "cluster_member_absent", Args: map[string]any{"name": "node2", "force": "maybe"}},
		},
		Snapshot: func(t testing.TB) string {
			var b strings.Builder
			cl, _, err := c.GetCluster()
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "enabled=%t name=%s; ", cl.Enabled, cl.ServerName)
			if cl.Enabled {
				members, err := c.GetClusterMembers()
				if err != nil {
					t.Fatal(err)
				}
				sort.Slice(members, func(i, j int) bool { return members[i].ServerName < members[j].ServerName })
				for _, m := range members {
					fmt.Fprintf(&b, "%s@%s %q %v %v; ", m.ServerName, m.URL, m.Description, m.Groups, m.Config)
				}
			}
			srv, _, err := c.GetServer()
			if err != nil {
				t.Fatal(err)
			}
			keys := make([]string, 0, len(srv.Config))
			for k := range srv.Config {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				fmt.Fprintf(&b, "%s=%v; ", k, srv.Config[k])
			}
			return b.String()
		},
	})
}
