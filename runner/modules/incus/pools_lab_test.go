package incus_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	incusclient "github.com/lxc/incus/v6/client"
	"github.com/lxc/incus/v6/shared/api"

	"github.com/statectl/statectl/runner/module"
)

func getPool(t *testing.T, s incusclient.InstanceServer, name string) *api.StoragePool {
	t.Helper()
	p, _, err := s.GetStoragePool(name)
	if err != nil {
		t.Fatalf("failed to read pool %s: %v", name, err)
	}
	return p
}

// memberDirs makes an empty source directory per member.
func memberDirs(t *testing.T, names ...string) map[string]string {
	root := t.TempDir()
	out := map[string]string{}
	for _, n := range names {
		out[n] = filepath.Join(root, n)
		if err := os.Mkdir(out[n], 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestStoragePoolDirSaltWay creates a dir pool the Salt way: each member's
// state carries its own source (its own pillar render). The first two only
// add their pending entries and say the create waits; the last finishes it.
// A re-run writes nothing; the driver cannot change; absent is refused while
// a profile uses the pool.
func TestStoragePoolDirSaltWay(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 3)
	e.bootstrap("node2", "node3")
	dirs := memberDirs(t, "node1", "node2", "node3")
	c1 := e.client("node1")
	call := func(target string) *module.Call {
		return mkcall(target, "storage_pool_present", "local", map[string]any{
			"driver": "dir", "description": "Local storage pool",
			"config": map[string]any{"source": dirs[target]},
		})
	}

	// Test mode on node1 says the cluster-wide create waits.
	r := e.plan(e.mod, call("node1"))
	if r.planErr != nil || r.plan.Action != module.Create || r.plan.Comment != "Storage pool local would be updated: pending entry on node1; the cluster-wide create waits for node2, node3, "+
		"which still lack a pending entry (their own states add it, or list them in members); the last of them finishes it" {
		t.Fatalf("plan on node1: %v %+v", r.planErr, r.plan)
	}
	e.mustApply(e.mod, call("node1"))
	e.mustApply(e.mod, call("node2"))
	// Incus lists locations in no fixed order.
	if p := getPool(t, c1, "local"); p.Status != api.StoragePoolStatusPending || strings.Join(slices.Sorted(slices.Values(p.Locations)), ",") != "node1,node2" {
		t.Fatalf("after two members: status %s, locations %v", p.Status, p.Locations)
	}
	r = e.mustApply(e.mod, call("node3"))
	if _, ok := r.out.Changes["status"]; !ok {
		t.Fatalf("last member did not create the pool: %+v", r.out)
	}
	p := getPool(t, c1, "local")
	if p.Status != api.StoragePoolStatusCreated || p.Description != "Local storage pool" {
		t.Fatalf("pool: %+v", p)
	}
	for _, n := range []string{"node1", "node2", "node3"} {
		if got := getPool(t, c1.UseTarget(n), "local").Config["source"]; got != dirs[n] {
			t.Fatalf("source on %s: %q, want %q", n, got, dirs[n])
		}
	}

	// A new run: converged on every member, zero writes.
	// The pool (untargeted: global keys) is read once per run, the
	// target's own entry (targeted: its source) once per target, plus the
	// connection's GET /1.0 (the server answer is cached). A second plan
	// of the same run reads nothing.
	m := e.newModule()
	for i, n := range []string{"node1", "node2", "node3"} {
		before := e.counter.Reads()
		e.mustConverged(m, call(n))
		if reads, want := e.counter.Reads()-before, map[bool]int64{true: 3, false: 2}[i == 0]; reads != want {
			t.Errorf("no-op plan on %s: %d reads, want %d", n, reads, want)
		}
		before = e.counter.Reads()
		if r := e.run(m, call(n)); r.writes != 0 || r.out != nil {
			t.Fatalf("re-run on %s wrote: %+v", n, r)
		}
		if reads := e.counter.Reads() - before; reads != 0 {
			t.Errorf("second no-op plan on %s: %d reads, want 0", n, reads)
		}
	}

	// A description change is one untargeted update.
	desc := call("node2")
	desc.Args["description"] = "changed"
	r = e.mustApply(m, desc)
	if r.writes != 1 || getPool(t, c1, "local").Description != "changed" {
		t.Fatalf("description update: %d writes, %+v", r.writes, r.out)
	}

	// The driver is immutable: the plan fails with the way out.
	zfs := call("node1")
	zfs.Args["driver"] = "zfs"
	if r := e.plan(m, zfs); r.planErr != nil || !r.plan.Fail || !strings.Contains(r.plan.Comment, "incus.storage_pool_absent") {
		t.Fatalf("driver change: %v %+v", r.planErr, r.plan)
	}

	// Absent is refused while a profile uses the pool, naming it.
	if err := c1.CreateProfile(api.ProfilesPost{Name: "uses-local", ProfilePut: api.ProfilePut{Devices: map[string]map[string]string{
		"root": {"type": "disk", "path": "/", "pool": "local"}}}}); err != nil {
		t.Fatal(err)
	}
	m = e.newModule() // the run's cache keeps what it read: a new run sees the edit
	absent := mkcall("node2", "storage_pool_absent", "local", nil)
	if r := e.plan(m, absent); r.planErr != nil || !r.plan.Fail || !strings.Contains(r.plan.Comment, "/1.0/profiles/uses-local") {
		t.Fatalf("absent while used: %v %+v", r.planErr, r.plan)
	}
	if err := c1.DeleteProfile("uses-local"); err != nil {
		t.Fatal(err)
	}
	m = e.newModule()
	e.mustApply(m, absent)
	if _, _, err := c1.GetStoragePool("local"); err == nil {
		t.Fatal("pool still there after absent")
	}
	e.mustConverged(m, absent)
}

// TestStoragePoolMembersMap creates a pool from one state with an explicit
// per-member map (a pillar written once for the cluster), finishes an
// interrupted create (pending entries made by hand for two members) and an
// Errored one (one member's source not empty), and converges afterwards.
func TestStoragePoolMembersMap(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 3)
	e.bootstrap("node2", "node3")
	dirs := memberDirs(t, "node1", "node2", "node3")
	c1 := e.client("node1")
	call := mkcall("node1", "storage_pool_present", "shared", map[string]any{
		"driver": "dir",
		"members": map[string]any{
			"node1": map[string]any{"source": dirs["node1"]},
			"node2": map[string]any{"source": dirs["node2"]},
			"node3": map[string]any{"source": dirs["node3"]},
		},
	})

	// Interrupted: node1 and node2 have their entries, node3 and the
	// cluster-wide create are missing.
	for _, n := range []string{"node1", "node2"} {
		if err := c1.UseTarget(n).CreateStoragePool(api.StoragePoolsPost{Name: "shared", Driver: "dir",
			StoragePoolPut: api.StoragePoolPut{Config: map[string]string{"source": dirs[n]}}}); err != nil {
			t.Fatal(err)
		}
	}
	// Errored: node3's source is not empty, so its create fails.
	junk := filepath.Join(dirs["node3"], "junk")
	if err := os.WriteFile(junk, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := e.run(e.mod, call)
	if r.applErr == nil && (r.out == nil || !r.out.Failed) {
		t.Fatalf("create with a non-empty source did not fail: %+v", r)
	}
	if st := getPool(t, c1, "shared").Status; st != api.StoragePoolStatusErrored {
		t.Fatalf("status after failed create: %s", st)
	}
	if err := os.Remove(junk); err != nil {
		t.Fatal(err)
	}
	r = e.plan(e.newModule(), call)
	if r.planErr != nil || r.plan.Changes["status"] == nil {
		t.Fatalf("retry not planned: %v %+v", r.planErr, r.plan)
	}
	e.mustApply(e.newModule(), call)
	if p := getPool(t, c1, "shared"); p.Status != api.StoragePoolStatusCreated {
		t.Fatalf("retry: status %s", p.Status)
	}
	if got := getPool(t, c1.UseTarget("node3"), "shared").Config["source"]; got != dirs["node3"] {
		t.Fatalf("node3 source %q", got)
	}
	m := e.newModule()
	e.mustConverged(m, call)
	// From another target too: the members map makes every member known.
	other := mkcall("node3", "storage_pool_present", "shared", call.Args)
	e.mustConverged(m, other)
}

// veth creates a veth pair for the test and removes it in Cleanup.
func veth(t *testing.T, a, b string) {
	t.Helper()
	if out, err := exec.Command("ip", "link", "add", a, "type", "veth", "peer", "name", b).CombinedOutput(); err != nil {
		t.Fatalf("ip link add %s: %v: %s", a, err, out)
	}
	t.Cleanup(func() { _ = exec.Command("ip", "link", "del", a).Run() })
}

// TestNetworkMacvlan creates a macvlan network whose parent differs per
// member (veth interfaces this test creates; the lab's members share one
// network namespace), converges it, and removes it.
func TestNetworkMacvlan(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 3)
	e.bootstrap("node2", "node3")
	c1 := e.client("node1")
	parents := map[string]string{}
	for i, n := range []string{"node1", "node2", "node3"} {
		a := "stpm" + string(rune('a'+i)) + "0"
		veth(t, a, "stpm"+string(rune('a'+i))+"1")
		parents[n] = a
	}
	call := func(target string) *module.Call {
		return mkcall(target, "network_present", "mv0", map[string]any{
			"type": "macvlan", "description": "macvlan per member",
			"config": map[string]any{"parent": parents[target], "mtu": "1400"},
		})
	}
	for _, n := range []string{"node1", "node2", "node3"} {
		e.mustApply(e.mod, call(n))
	}
	nw, _, err := c1.GetNetwork("mv0")
	if err != nil {
		t.Fatal(err)
	}
	if nw.Status != api.NetworkStatusCreated || nw.Config["mtu"] != "1400" || nw.Description != "macvlan per member" {
		t.Fatalf("network: %+v", nw)
	}
	for n, p := range parents {
		got, _, err := c1.UseTarget(n).GetNetwork("mv0")
		if err != nil || got.Config["parent"] != p {
			t.Fatalf("parent on %s: %v %v", n, err, got)
		}
	}
	m := e.newModule()
	for _, n := range []string{"node1", "node2", "node3"} {
		if r := e.run(m, call(n)); r.writes != 0 || r.out != nil || r.planErr != nil {
			t.Fatalf("re-run on %s: %+v", n, r)
		}
	}
	// A member-specific change goes to that member only.
	veth(t, "stpmx0", "stpmx1")
	moved := call("node2")
	moved.Args["config"].(map[string]any)["parent"] = "stpmx0"
	r := e.mustApply(m, moved)
	if r.writes != 1 {
		t.Fatalf("parent change: %d writes: %+v", r.writes, r.out)
	}
	if got, _, _ := c1.UseTarget("node2").GetNetwork("mv0"); got.Config["parent"] != "stpmx0" {
		t.Fatalf("node2 parent: %v", got.Config)
	}
	if got, _, _ := c1.UseTarget("node1").GetNetwork("mv0"); got.Config["parent"] != parents["node1"] {
		t.Fatalf("node1 parent changed: %v", got.Config)
	}
	// The type is immutable.
	bad := call("node1")
	bad.Args["type"] = "physical"
	if r := e.plan(m, bad); !r.plan.Fail || !strings.Contains(r.plan.Comment, "incus.network_absent") {
		t.Fatalf("type change: %+v", r.plan)
	}
	// Absent is refused while a profile uses the network, naming it.
	if err := c1.CreateProfile(api.ProfilesPost{Name: "uses-mv0", ProfilePut: api.ProfilePut{Devices: map[string]map[string]string{
		"eth0": {"type": "nic", "network": "mv0"}}}}); err != nil {
		t.Fatal(err)
	}
	m = e.newModule() // the run's cache keeps what it read: a new run sees the edit
	absent := mkcall("node1", "network_absent", "mv0", nil)
	if r := e.plan(m, absent); r.planErr != nil || !r.plan.Fail || !strings.Contains(r.plan.Comment, "/1.0/profiles/uses-mv0") {
		t.Fatalf("absent while used: %v %+v", r.planErr, r.plan)
	}
	if err := c1.DeleteProfile("uses-mv0"); err != nil {
		t.Fatal(err)
	}
	m = e.newModule()
	e.mustApply(m, absent)
	e.mustConverged(m, absent)

	// A physical network from one state with a per-member map: every
	// pending entry and the create in one apply.
	phys := mkcall("node2", "network_present", "ph0", map[string]any{"type": "physical", "members": map[string]any{
		"node1": map[string]any{"parent": "stpma1"}, "node2": map[string]any{"parent": "stpmb1"}, "node3": map[string]any{"parent": "stpmc1"},
	}})
	if r := e.mustApply(m, phys); r.writes != 4 {
		t.Fatalf("physical: %d writes, want 3 pending entries and the create: %+v", r.writes, r.out)
	}
	if got, _, err := c1.UseTarget("node3").GetNetwork("ph0"); err != nil || got.Status != api.NetworkStatusCreated || got.Config["parent"] != "stpmc1" {
		t.Fatalf("ph0 on node3: %v %+v", err, got)
	}
	e.mustConverged(e.newModule(), phys)
}

// TestSharedResourcesHighstate applies the shipped states (incus: members,
// settings, pools, networks) to three lab members, one after the other,
// with a pillar in the guide's shapes whose member-specific values come
// from grains (the Salt way): node1 bootstraps and creates the pool and
// the network on its one-member cluster, node2 and node3 answer their join
// questions with their own source and parent, and a re-run over all
// members writes nothing.
func TestSharedResourcesHighstate(t *testing.T) {
	t.Parallel()
	c := newCLIEnv(t, 3)
	root := t.TempDir()
	for i, n := range []string{"node1", "node2", "node3"} {
		veth(t, "stsh"+string(rune('1'+i))+"0", "stsh"+string(rune('1'+i))+"1")
		if err := os.Mkdir(filepath.Join(root, n), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	shared := `incus:
  storage_pools:
    local:
      driver: dir
      config:
        source: ` + root + `/{{ grains['id'] }}
      description: Local storage pool
  networks:
    mv0:
      network_type: macvlan
      config:
        parent: {{ grains['id']|replace('node', 'stsh') }}0
        mtu: "1400"
      description: macvlan per member
`
	if err := os.WriteFile(filepath.Join(c.pillar, "shared.sls"), []byte(shared), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(c.pillar, "top.sls"), []byte("base:\n  '*':\n    - incus\n    - shared\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"node1", "node2", "node3"} {
		if r := c.statectl("apply", id); r.code != 0 {
			t.Fatalf("apply %s: exit %d\n%s\n%s", id, r.code, r.stdout, r.stderr)
		}
	}
	c1 := c.client("node1")
	if p := getPool(t, c1, "local"); p.Status != api.StoragePoolStatusCreated || p.Description != "Local storage pool" {
		t.Fatalf("pool: %+v", p)
	}
	nw, _, err := c1.GetNetwork("mv0")
	if err != nil || nw.Status != api.NetworkStatusCreated || nw.Config["mtu"] != "1400" {
		t.Fatalf("network: %v %+v", err, nw)
	}
	for i, n := range []string{"node1", "node2", "node3"} {
		if got := getPool(t, c1.UseTarget(n), "local").Config["source"]; got != filepath.Join(root, n) {
			t.Fatalf("source on %s: %q", n, got)
		}
		got, _, err := c1.UseTarget(n).GetNetwork("mv0")
		if want := "stsh" + string(rune('1'+i)) + "0"; err != nil || got.Config["parent"] != want {
			t.Fatalf("parent on %s: %v %v, want %s", n, err, got, want)
		}
	}
	c.converged()
}

// TestStoragePoolMemberJoinsLater: a pool created on three members; a
// fourth member listed in members is noted as not a member yet, joins
// answering the pool's source question with its own value (as the
// shipped cluster state does), and the pool state is then converged on
// all four.
func TestStoragePoolMemberJoinsLater(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 4)
	e.bootstrap("node2", "node3")
	dirs := memberDirs(t, "node1", "node2", "node3", "node4")
	members := map[string]any{}
	for n, d := range dirs {
		members[n] = map[string]any{"source": d}
	}
	call := mkcall("node1", "storage_pool_present", "late", map[string]any{"driver": "dir", "members": members})
	r := e.mustApply(e.mod, call)
	if !strings.Contains(r.out.Comment, "node4, which is not a cluster member (yet)") {
		t.Fatalf("comment: %s", r.out.Comment)
	}
	e.mustApply(e.mod, mkcall("node4", "cluster_member_present", "node4", map[string]any{
		"address": e.addr("node4"), "cluster": []any{"node1"},
		"member_config": []any{map[string]any{"entity": "storage-pool", "name": "late", "key": "source", "value": dirs["node4"]}},
	}))
	c1 := e.client("node1")
	if got := getPool(t, c1.UseTarget("node4"), "late").Config["source"]; got != dirs["node4"] {
		t.Fatalf("node4 source %q, want %q", got, dirs["node4"])
	}
	m := e.newModule()
	e.mustConverged(m, call)
	e.mustConverged(m, mkcall("node4", "storage_pool_present", "late", call.Args))
}

// TestStoragePoolStandalone: on a server that is not clustered the pool is
// one create with every key, then converged with no write.
func TestStoragePoolStandalone(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 1)
	dirs := memberDirs(t, "node1")
	call := mkcall("node1", "storage_pool_present", "solo", map[string]any{
		"driver": "dir", "description": "one", "config": map[string]any{"source": dirs["node1"]},
	})
	r := e.mustApply(e.mod, call)
	if r.writes != 1 || r.plan.Action != module.Create {
		t.Fatalf("create: %d writes, action %s", r.writes, r.plan.Action)
	}
	if p := getPool(t, e.client("node1"), "solo"); p.Config["source"] != dirs["node1"] || p.Description != "one" {
		t.Fatalf("pool: %+v", p)
	}
	e.mustConverged(e.newModule(), call)
}

// TestStoragePoolMemberNotAnswering: with node3 frozen (still listed
// Online) the plan fails naming it and nothing is written; once it
// answers, a re-run creates the pool.
func TestStoragePoolMemberNotAnswering(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 3)
	e.bootstrap("node2", "node3")
	dirs := memberDirs(t, "node1", "node2", "node3")
	members := map[string]any{}
	for n, d := range dirs {
		members[n] = map[string]any{"source": d}
	}
	call := mkcall("node1", "storage_pool_present", "frozen", map[string]any{"driver": "dir", "members": members})
	thaw := e.freeze("node3")
	r := e.run(e.newModule(), call)
	if r.planErr != nil || !r.plan.Fail || !strings.Contains(r.plan.Comment, "node3") || r.writes != 0 {
		t.Fatalf("plan with node3 frozen: %v, %d writes, %+v", r.planErr, r.writes, r.plan)
	}
	if _, _, err := e.client("node1").GetStoragePool("frozen"); err == nil {
		t.Fatal("pool written while node3 did not answer")
	}
	thaw()
	e.mustApply(e.newModule(), call)
	if p := getPool(t, e.client("node1"), "frozen"); p.Status != api.StoragePoolStatusCreated {
		t.Fatalf("status %s", p.Status)
	}
}
