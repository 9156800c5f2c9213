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
)

// TestGroupMembershipDisagreement: one run managing a member's groups and
// a group's members must agree; compile (validation, offline) says so
// before anything runs, naming both states. Without the compile-stage hook
// (module.RunValidator) each state validates alone and these compile.
func TestGroupMembershipDisagreement(t *testing.T) {
	member := func(groups string) string {
		return "node2-member:\n  incus.cluster_member_present:\n    - name: node2\n    - address: 10.0.0.2\n    - groups: " + groups + "\n"
	}
	group := func(fn, members string) string {
		s := "gpu-group:\n  incus." + fn + ":\n    - name: gpu\n"
		if members != "" {
			s += "    - members: " + members + "\n"
		}
		return s
	}
	cases := []struct {
		name, sls, want string
	}{
		{"agree", member("[default, gpu]") + group("cluster_group_present", "[node2]"), ""},
		{"group unmanaged members", member("[default]") + group("cluster_group_present", ""), ""},
		{"member left out", member("[default, gpu]") + group("cluster_group_present", "[node1]"),
			"cluster group gpu does not list node2 in members, but state node2-member (cluster_member_present node2) puts it in the group"},
		{"member not in groups", member("[default]") + group("cluster_group_present", "[node2]"),
			"cluster group gpu lists node2 in members, but state node2-member (cluster_member_present node2) keeps it out of the group"},
		{"group absent", member("[gpu]") + group("cluster_group_absent", ""),
			"cluster group gpu is to be absent, but state node2-member (cluster_member_present node2) puts node2 in it"},
	}
	reg := module.NewRegistry(incusmod.New(nil, incusconn.Options{}))
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			if err := os.WriteFile(filepath.Join(root, "groups.sls"), []byte(tc.sls), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := compile.SLS(compile.Options{Root: root, Target: &target.Subject{ID: "node2"}, Registry: reg}, "groups")
			if tc.want == "" {
				if err != nil {
					t.Fatalf("want no error, got %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "gpu-group") {
				t.Fatalf("want %q on state gpu-group, got %v", tc.want, err)
			}
		})
	}
}

// TestMaintenanceValidate: offline argument checks of the new functions.
func TestMaintenanceValidate(t *testing.T) {
	m := incusmod.New(nil, incusconn.Options{})
	cases := []struct {
		fn, name string
		args     map[string]any
		want     string
	}{
		{"cluster_member_evacuated", "node2", map[string]any{"mode": "heal"}, "argument mode: must be one of auto, migrate"},
		{"cluster_member_evacuated", "node2", map[string]any{"wait": 0}, "argument wait"},
		{"cluster_member_evacuated", "node2", map[string]any{"mode": "stop"}, ""},
		{"cluster_member_restored", "node2", nil, ""},
		{"cluster_group_absent", "default", nil, "the default cluster group cannot be deleted"},
		{"cluster_group_present", "gpu", map[string]any{"members": []any{"node1"}}, ""},
		{"cluster_certificate", "cert", map[string]any{"certificate": "nope", "key": "secret-key-value"}, "argument certificate: not a PEM certificate"},
	}
	for _, tc := range cases {
		err := m.Validate(mkcall("node1", tc.fn, tc.name, tc.args))
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s %v: got %v, want %q", tc.fn, tc.args, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "secret-key-value") {
			t.Errorf("%s: key in error: %v", tc.fn, err)
		}
	}
}
