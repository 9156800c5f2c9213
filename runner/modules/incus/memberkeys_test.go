package incus

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/statectl/statectl/runner/module"
)

// TestJinjaMemberKeysMatchIncus checks the member-specific key lists that
// states/incus/map.jinja uses for join answers against the module's
// tables (copied from Incus): the two must not drift apart.
func TestJinjaMemberKeysMatchIncus(t *testing.T) {
	data, err := os.ReadFile("../../../states/incus/map.jinja")
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(data), "set member_keys = {")
	if i < 0 {
		t.Fatal("map.jinja sets no member_keys")
	}
	data = data[i:]
	for entity, table := range map[string]map[string]bool{"storage-pool": poolMemberKeys, "network": networkMemberKeys} {
		m := regexp.MustCompile(`'` + entity + `': \[([^\]]*)\]`).FindSubmatch(data)
		if m == nil {
			t.Fatalf("map.jinja has no member key list for %s", entity)
		}
		var got []string
		for _, f := range strings.Split(string(m[1]), ",") {
			got = append(got, strings.Trim(strings.TrimSpace(f), "'"))
		}
		slices.Sort(got)
		if want := sortedKeys(table); !slices.Equal(got, want) {
			t.Errorf("%s: map.jinja lists %v, memberkeys.go %v", entity, got, want)
		}
	}
}

func TestMemberKeys(t *testing.T) {
	for _, tc := range []struct {
		key        string
		pool, netw bool
	}{
		{"source", true, false}, {"zfs.pool_name", true, false}, {"lvm.vg_name", true, false},
		{"parent", false, true}, {"bridge.external_interfaces", false, true},
		{"tunnel.t1.interface", false, true}, {"tunnel.t1.local", false, true}, {"tunnel.t1.remote", false, false},
		{"ipv4.address", false, false}, {"rsync.bwlimit", false, false},
	} {
		if isPoolMemberKey(tc.key) != tc.pool || isNetworkMemberKey(tc.key) != tc.netw {
			t.Errorf("%s: pool %v network %v, want %v %v", tc.key, isPoolMemberKey(tc.key), isNetworkMemberKey(tc.key), tc.pool, tc.netw)
		}
	}
}

// TestDecodeSharedResources checks the offline argument errors and where
// member-specific keys go (zfs, lvm, ceph and ovn are only checked here:
// this machine has none of those backends).
func TestDecodeSharedResources(t *testing.T) {
	call := func(fn string, args map[string]any) *module.Call {
		args["name"] = "x"
		return &module.Call{ID: "x", Name: "x", Function: fn, Args: args}
	}
	for _, tc := range []struct {
		name string
		kind *resKind
		c    *module.Call
		want string // error text; "" for none
	}{
		{"pool without driver", poolKind, call("storage_pool_present", map[string]any{}), "argument driver: required"},
		{"global key in members", poolKind, call("storage_pool_present", map[string]any{"driver": "zfs",
			"members": map[string]any{"node1": map[string]any{"zfs.pool_name": "p1", "volume.size": "1GiB"}}}), `key "volume.size" is not member-specific`},
		{"ovn takes no members", networkKind, call("network_present", map[string]any{"type": "ovn",
			"members": map[string]any{"node1": map[string]any{"parent": "eth0"}}}), "takes no member-specific config"},
		{"lvm ok", poolKind, call("storage_pool_present", map[string]any{"driver": "lvm",
			"config": map[string]any{"lvm.vg_name": "vg", "lvm.use_thinpool": "false"}}), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeResPresent(tc.kind)(tc.c)
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
	a, err := decodeResPresent(poolKind)(call("storage_pool_present", map[string]any{"driver": "lvm",
		"config":  map[string]any{"lvm.vg_name": "vg", "lvm.use_thinpool": "false"},
		"members": map[string]any{"node2": map[string]any{"lvm.vg_name": "vg2"}}}))
	if err != nil {
		t.Fatal(err)
	}
	r := a.(*resArgs)
	if *r.own["lvm.vg_name"] != "vg" || *r.config["lvm.use_thinpool"] != "false" || r.own["lvm.use_thinpool"] != nil {
		t.Fatalf("split: own %v global %v", r.own, r.config)
	}
	if v, ok := r.memberValues("node2", "node1"); !ok || *v["lvm.vg_name"] != "vg2" {
		t.Fatalf("node2: %v %v", v, ok)
	}
	if _, ok := r.memberValues("node3", "node1"); ok {
		t.Fatal("node3's values known without members or its own render")
	}
	// OVN: parent-like keys are global (no targeted create at all).
	n, err := decodeResPresent(networkKind)(call("network_present", map[string]any{"type": "ovn",
		"config": map[string]any{"network": "up", "bridge.external_interfaces": "eth1"}}))
	if err != nil {
		t.Fatal(err)
	}
	if len(n.(*resArgs).own) != 0 {
		t.Fatalf("ovn member keys: %v", n.(*resArgs).own)
	}
}
