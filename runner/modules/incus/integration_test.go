package incus_test

import (
	"context"
	"strings"
	"testing"

	incusclient "github.com/lxc/incus/v6/client"
	"github.com/lxc/incus/v6/shared/api"
)

const clusterSecret = "cluster-secret-password"

// bootstrap forms the cluster node1 + the given joiners through the module.
func (e *env) bootstrap(joiners ...string) {
	e.t.Helper()
	e.mustApply(e.mod, mkcall("node1", "cluster_enabled", "node1", map[string]any{"address": e.addr("node1")}))
	for _, j := range joiners {
		e.mustApply(e.mod, mkcall(j, "cluster_member_present", j, map[string]any{
			"address": e.addr(j), "cluster": []any{"node1"},
		}))
	}
}

func members(t *testing.T, s incusclient.InstanceServer) map[string]api.ClusterMember {
	t.Helper()
	list, err := s.GetClusterMembers()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]api.ClusterMember{}
	for _, m := range list {
		out[m.ServerName] = m
	}
	return out
}

// createPool creates a dir storage pool on every member (two-phase), so a
// joiner must answer the pool's member config.
func createPool(t *testing.T, s incusclient.InstanceServer, on ...string) {
	t.Helper()
	for _, m := range on {
		if err := s.UseTarget(m).CreateStoragePool(api.StoragePoolsPost{Name: "default", Driver: "dir"}); err != nil {
			t.Fatalf("pool on %s: %v", m, err)
		}
	}
	if err := s.CreateStoragePool(api.StoragePoolsPost{Name: "default", Driver: "dir"}); err != nil {
		t.Fatalf("pool: %v", err)
	}
}

// createInstance creates an empty, stopped container on member.
func createInstance(t *testing.T, s incusclient.InstanceServer, member, name string) {
	t.Helper()
	op, err := s.UseTarget(member).CreateInstance(api.InstancesPost{
		Name: name, Type: api.InstanceTypeContainer, Source: api.InstanceSource{Type: "none"},
		InstancePut: api.InstancePut{Devices: map[string]map[string]string{
			"root": {"type": "disk", "path": "/", "pool": "default"},
		}},
	})
	if err != nil {
		t.Fatalf("create instance: %v", err)
	}
	if err := op.WaitContext(context.Background()); err != nil {
		t.Fatalf("create instance: %v", err)
	}
}

func TestClusterMembership(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 3)
	m := e.mod
	c1 := e.client("node1")

	// Bootstrap: test mode predicts it without writing, apply does it.
	boot := mkcall("node1", "cluster_enabled", "node1", map[string]any{"address": e.addr("node1")})
	if r := e.plan(m, boot); r.planErr != nil || r.plan.Changes["cluster"] == nil {
		t.Fatalf("bootstrap plan: %v %+v", r.planErr, r.plan)
	}
	e.mustApply(m, boot)
	e.mustConverged(m, boot)
	if r := e.plan(m, mkcall("node1", "cluster_enabled", "other", nil)); r.planErr != nil || !r.plan.Fail || !strings.Contains(r.plan.Comment, "already clustered as member node1") {
		t.Fatalf("renamed bootstrap: want failure, got %v %+v", r.planErr, r.plan)
	}

	// A pool makes the join answer member config (its source).
	createPool(t, c1, "node1")

	// node2 joins from its own target through cluster: [node1].
	join2 := mkcall("node2", "cluster_member_present", "node2", map[string]any{
		"address": e.addr("node2"), "cluster": []any{"node1"}, "description": "Cluster node 2",
		"cluster_password": clusterSecret,
	})
	r := e.mustApply(m, join2)
	if strings.Contains(r.text(), clusterSecret) {
		t.Fatalf("secret in output: %s", r.text())
	}
	if !strings.Contains(r.plan.Comment, "cluster_password ignored") {
		t.Errorf("plan comment does not say cluster_password is ignored: %s", r.plan.Comment)
	}

	// node3 joins through the target node1 (the default cluster), with
	// every managed field.
	join3 := mkcall("node1", "cluster_member_present", "node3", map[string]any{
		"address":     strings.TrimSuffix(e.addr("node3"), ":8443"), // seed style: no port
		"description": "Cluster node 3", "failure_domain": "rack1",
		"groups": []any{"default", "gpu"}, "roles": []any{"event-hub", "database"},
		"config": map[string]any{"user.rack": "r1", "scheduler.instance": "all"},
	})
	r = e.mustApply(m, join3)
	got := members(t, c1)
	if len(got) != 3 {
		t.Fatalf("want 3 members, got %v", got)
	}
	n3 := got["node3"]
	if n3.Description != "Cluster node 3" || n3.FailureDomain != "rack1" || n3.Config["user.rack"] != "r1" ||
		strings.Join(n3.Groups, ",") != "default,gpu" || !contains(n3.Roles, "event-hub") {
		t.Fatalf("node3 not converged: %+v", n3)
	}
	if got["node2"].Description != "Cluster node 2" {
		t.Fatalf("node2 description: %+v", got["node2"])
	}

	// A new run re-plans everything: converged, zero write requests.
	m2 := e.newModule()
	before := e.counter.Writes()
	e.mustConverged(m2, boot)
	e.mustConverged(m2, join2)
	e.mustConverged(m2, join3)
	if n := e.counter.Writes() - before; n != 0 {
		t.Fatalf("re-apply sent %d writes", n)
	}

	// Out-of-band drift: test mode reports it and sends nothing.
	drift(t, c1, "node2", "edited by hand")
	m2 = e.newModule() // the run's cache keeps what it read: a new run sees the edit
	r = e.plan(m2, join2)
	want := map[string]any{"old": "edited by hand", "new": "Cluster node 2"}
	if d, _ := r.plan.Changes["description"].(map[string]any); r.planErr != nil || d["old"] != want["old"] || d["new"] != want["new"] {
		t.Fatalf("drift plan: %v %+v", r.planErr, r.plan)
	}

	// A concurrent edit between plan and apply is refused, not overwritten.
	p, err := m2.Plan(context.Background(), join2)
	if err != nil {
		t.Fatal(err)
	}
	drift(t, c1, "node2", "edited again")
	out, err := m2.Apply(context.Background(), join2, p)
	if err != nil || !out.Failed || !strings.Contains(out.Comment, "changed concurrently") {
		t.Fatalf("concurrent edit: want failure, got %v %+v", err, out)
	}
	if d := members(t, c1)["node2"].Description; d != "edited again" {
		t.Fatalf("concurrent edit overwritten: %q", d)
	}
	e.mustApply(m2, join2)
	e.mustConverged(m2, join2)

	// A null config value removes the key; dropping event-hub empties the
	// writable roles while the automatic database role stays.
	unrack := mkcall("node1", "cluster_member_present", "node3", map[string]any{
		"address": e.addr("node3"), "config": map[string]any{"user.rack": nil}, "roles": []any{},
	})
	e.mustApply(m2, unrack)
	e.mustConverged(m2, unrack)
	if n3 := members(t, c1)["node3"]; n3.Config["user.rack"] != "" || contains(n3.Roles, "event-hub") || !contains(n3.Roles, "database") {
		t.Fatalf("node3 after unrack: %+v", n3)
	}

	// An address mismatch fails with what to do, in plan and test mode.
	moved := mkcall("node1", "cluster_member_present", "node2", map[string]any{"address": "127.0.0.250:8443"})
	if r := e.plan(m2, moved); r.planErr != nil || !r.plan.Fail || !strings.Contains(r.plan.Comment, "cannot change in place") {
		t.Fatalf("address mismatch: %v %+v", r.planErr, r.plan)
	}

	// Removal: a member holding an instance is refused without force and
	// removed with it.
	createInstance(t, c1, "node3", "c1")
	absent3 := mkcall("node1", "cluster_member_absent", "node3", nil)
	if r := e.plan(m2, absent3); r.planErr != nil || !r.plan.Fail || !strings.Contains(r.plan.Comment, "still holds 1 instance(s): default/c1") {
		t.Fatalf("absent with instance: %v %+v", r.planErr, r.plan)
	}
	forced := mkcall("node1", "cluster_member_absent", "node3", map[string]any{"force": true})
	r = e.mustApply(m2, forced)
	t.Logf("forced removal: %+v", r.out)
	if _, ok := members(t, c1)["node3"]; ok {
		t.Fatal("node3 still a member")
	}
	e.mustConverged(m2, forced)

	// An empty member is removed without force.
	absent2 := mkcall("node1", "cluster_member_absent", "node2", nil)
	e.mustApply(m2, absent2)
	e.mustConverged(m2, absent2)

	// The last member is never removed without force.
	if r := e.plan(m2, mkcall("node1", "cluster_member_absent", "node1", nil)); r.planErr != nil || !r.plan.Fail || !strings.Contains(r.plan.Comment, "last member") {
		t.Fatalf("last member: %v %+v", r.planErr, r.plan)
	}
}

func drift(t *testing.T, s incusclient.InstanceServer, member, desc string) {
	t.Helper()
	mem, etag, err := s.GetClusterMember(member)
	if err != nil {
		t.Fatal(err)
	}
	put := mem.Writable()
	put.Description = desc
	if err := s.UpdateClusterMember(member, put, etag); err != nil {
		t.Fatal(err)
	}
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}
