package incus_test

import (
	"context"
	"crypto/tls"
	"strings"
	"testing"
	"time"

	incusclient "github.com/lxc/incus/v6/client"
	"github.com/lxc/incus/v6/shared/api"
	localtls "github.com/lxc/incus/v6/shared/tls"

	"github.com/statectl/statectl/runner/module"
)

func location(t *testing.T, s incusclient.InstanceServer, name string) string {
	t.Helper()
	in, _, err := s.GetInstance(name)
	if err != nil {
		t.Fatalf("failed to read instance %s: %v", name, err)
	}
	return in.Location
}

func memberStatus(t *testing.T, s incusclient.InstanceServer, name string) string {
	t.Helper()
	return members(t, s)[name].Status
}

// TestEvacuateRestore: an empty container (incus init --empty) on a dir
// pool moves off node2 when node2 is evacuated and comes back when it is
// restored; the plans list it; re-applies are no-ops; a frozen member is
// refused fast with its name.
func TestEvacuateRestore(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 3)
	if err := e.lab.Cluster(context.Background()); err != nil {
		t.Fatal(err)
	}
	c1 := e.client("node1")
	createPool(t, c1, "node1", "node2", "node3")
	createInstance(t, c1, "node2", "c1")

	evac := mkcall("node1", "cluster_member_evacuated", "node2", map[string]any{"mode": "migrate", "wait": 120})
	r := e.plan(e.mod, evac)
	if r.planErr != nil || r.plan.Action != module.Update || r.plan.Comment != "Cluster member node2 would be evacuated (1 instance(s))" {
		t.Fatalf("evacuate plan: %v %+v", r.planErr, r.plan)
	}
	if got := r.plan.Changes["instances"].(map[string]any)["default/c1"]; got != "move (migrate)" {
		t.Fatalf("evacuate plan lists c1 as %v", got)
	}
	start := time.Now()
	e.mustApply(e.mod, evac)
	t.Logf("evacuation of node2 with one stopped container: %s", time.Since(start).Round(time.Millisecond))
	if st := memberStatus(t, c1, "node2"); st != "Evacuated" {
		t.Fatalf("node2 is %s after evacuation", st)
	}
	if loc := location(t, c1, "c1"); loc == "node2" {
		t.Fatalf("c1 did not move off node2")
	}
	// A new run: evacuated is a no-op; so is restored for the others.
	m := e.newModule()
	e.mustConverged(m, evac)
	e.mustConverged(m, mkcall("node1", "cluster_member_restored", "node3", nil))

	restore := mkcall("node3", "cluster_member_restored", "node2", map[string]any{"wait": 120})
	r = e.plan(m, restore)
	if r.planErr != nil || r.plan.Comment != "Cluster member node2 would be restored (1 instance(s))" ||
		!strings.HasPrefix(r.plan.Changes["instances"].(map[string]any)["default/c1"].(string), "move back from node") {
		t.Fatalf("restore plan: %v %+v", r.planErr, r.plan)
	}
	e.mustApply(m, restore)
	if st := memberStatus(t, c1, "node2"); st != "Online" {
		t.Fatalf("node2 is %s after restore", st)
	}
	if loc := location(t, c1, "c1"); loc != "node2" {
		t.Fatalf("c1 is on %s after restore, want node2", loc)
	}
	e.mustConverged(e.newModule(), restore)

	// A frozen member (listed Online for cluster.offline_threshold) is
	// refused within the probe bound, named, with nothing sent.
	thaw := e.freeze("node3")
	start = time.Now()
	r = e.plan(e.newModule(), mkcall("node1", "cluster_member_evacuated", "node3", nil))
	if r.planErr != nil || !r.plan.Fail || !strings.Contains(r.plan.Comment, "Cluster member node3 cannot be evacuated: it listed Online but did not answer") {
		t.Fatalf("frozen member: %v %+v", r.planErr, r.plan)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("frozen member refused after %s", d)
	}
	thaw()
}

// TestClusterGroups: a group created, converged, changed and removed; the
// only-group rule and the missing config extension are refused up front.
func TestClusterGroups(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 3)
	if err := e.lab.Cluster(context.Background()); err != nil {
		t.Fatal(err)
	}
	c1 := e.client("node1")
	gpu := func(members ...any) *module.Call {
		return mkcall("node2", "cluster_group_present", "gpu", map[string]any{"description": "GPU servers", "members": members})
	}
	r := e.mustApply(e.mod, gpu("node1", "node2"))
	if r.plan.Action != module.Create || r.writes != 1 {
		t.Fatalf("create: %+v, %d writes", r.plan, r.writes)
	}
	g, _, err := c1.GetClusterGroup("gpu")
	if err != nil || g.Description != "GPU servers" || strings.Join(g.Members, ",") != "node1,node2" {
		t.Fatalf("group: %+v %v", g, err)
	}
	e.mustConverged(e.newModule(), gpu("node2", "node1"))
	// node1 is in default too, so it can leave gpu.
	if r := e.mustApply(e.newModule(), gpu("node2")); r.writes != 1 {
		t.Fatalf("update: %d writes", r.writes)
	}
	if g, _, _ := c1.GetClusterGroup("gpu"); strings.Join(g.Members, ",") != "node2" {
		t.Fatalf("members after update: %v", g.Members)
	}

	// node2 only in gpu: gpu can neither drop it nor go away.
	mem, etag, err := c1.GetClusterMember("node2")
	if err != nil {
		t.Fatal(err)
	}
	mem.Groups = []string{"gpu"}
	if err := c1.UpdateClusterMember("node2", mem.ClusterMemberPut, etag); err != nil {
		t.Fatal(err)
	}
	m := e.newModule()
	if r := e.plan(m, gpu("node1")); r.planErr != nil || !r.plan.Fail || !strings.Contains(r.plan.Comment, "cannot drop node2: it is their only group") {
		t.Fatalf("drop only group: %v %+v", r.planErr, r.plan)
	}
	absent := mkcall("node3", "cluster_group_absent", "gpu", nil)
	if r := e.plan(m, absent); r.planErr != nil || !r.plan.Fail || !strings.Contains(r.plan.Comment, "it is the only group of node2") {
		t.Fatalf("absent only group: %v %+v", r.planErr, r.plan)
	}
	// Group config needs clustering_groups_config (not in Incus 6.0).
	cfg := mkcall("node1", "cluster_group_present", "gpu", map[string]any{"config": map[string]any{"user.rack": "r1"}})
	if !c1.HasExtension("clustering_groups_config") {
		if r := e.plan(m, cfg); r.planErr != nil || !r.plan.Fail || !strings.Contains(r.plan.Comment, "clustering_groups_config") {
			t.Fatalf("config without the extension: %v %+v", r.planErr, r.plan)
		}
	} else {
		e.mustApply(m, cfg)
	}

	// Back in default: absent takes node2 out of gpu, then deletes it.
	mem, etag, _ = c1.GetClusterMember("node2")
	mem.Groups = []string{"default", "gpu"}
	if err := c1.UpdateClusterMember("node2", mem.ClusterMemberPut, etag); err != nil {
		t.Fatal(err)
	}
	r = e.mustApply(e.newModule(), absent)
	if r.plan.Action != module.Delete {
		t.Fatalf("absent: %+v", r.plan)
	}
	if names, _ := c1.GetClusterGroupNames(); strings.Join(names, ",") != "default" {
		t.Fatalf("groups after absent: %v", names)
	}
	e.mustConverged(e.newModule(), absent)
}

// TestClusterCertificate: the cluster certificate replaced: every member
// serves the new one, a re-apply is a no-op, the key is never in any
// output; a frozen member makes the plan refuse, naming it.
func TestClusterCertificate(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 3)
	if err := e.lab.Cluster(context.Background()); err != nil {
		t.Fatal(err)
	}
	newCert := func() (string, string, string) {
		cert, key, err := localtls.GenerateMemCert(false, true)
		if err != nil {
			t.Fatal(err)
		}
		pair, err := tls.X509KeyPair(cert, key)
		if err != nil {
			t.Fatal(err)
		}
		return string(cert), string(key), localtls.CertFingerprint(pair.Leaf)
	}
	served := func(name string) string {
		cfg := &tls.Config{InsecureSkipVerify: true} //nolint:gosec // reading the served certificate
		conn, err := tls.Dial("tcp", e.addr(name), cfg)
		if err != nil {
			t.Fatalf("dial %s: %v", name, err)
		}
		defer conn.Close()
		return localtls.CertFingerprint(conn.ConnectionState().PeerCertificates[0])
	}
	keyLines := func(key string) []string {
		lines := strings.Split(strings.TrimSpace(key), "\n")
		return lines[1 : len(lines)-1]
	}
	cert, key, fp := newCert()
	call := mkcall("node2", "cluster_certificate", "cluster-cert", map[string]any{"certificate": cert, "key": key})
	old := served("node1")
	r := e.mustApply(e.mod, call)
	texts := []string{r.text()}
	for _, n := range []string{"node1", "node2", "node3"} {
		if got := served(n); got != fp {
			t.Fatalf("%s serves %s, want %s (was %s)", n, got, fp, old)
		}
	}
	r = e.mustConverged(e.newModule(), call)
	texts = append(texts, r.text())

	thaw := e.freeze("node3")
	cert2, key2, _ := newCert()
	r = e.plan(e.newModule(), mkcall("node1", "cluster_certificate", "cluster-cert", map[string]any{"certificate": cert2, "key": key2}))
	thaw()
	if r.planErr != nil || !r.plan.Fail || !strings.Contains(r.plan.Comment, "while a member is offline or does not answer (node3: listed Online but did not answer") {
		t.Fatalf("frozen member: %v %+v", r.planErr, r.plan)
	}
	texts = append(texts, r.text())
	for i, text := range texts {
		for _, k := range [][]string{keyLines(key), keyLines(key2)} {
			for _, line := range k {
				if strings.Contains(text, line) {
					t.Fatalf("output %d holds a line of the key", i)
				}
			}
		}
	}
	if served("node3") != fp {
		t.Fatal("node3 changed certificate while frozen")
	}
	_ = api.ClusterMember{}
}
