package incus_test

import (
	"context"
	"github.com/lxc/incus/v6/shared/api"
	"testing"
	"time"

	"github.com/statectl/statectl/runner/incusconn"
	"github.com/statectl/statectl/runner/lab"
	"github.com/statectl/statectl/runner/lab/labtest"
	"github.com/statectl/statectl/runner/module"
)

// Through haproxy (TCP, round-robin per connection) each request may land
// on another member. settings_present used to GET /1.0 on one member and
// PUT on another, failing with "Changing cluster.https_address is
// currently not supported" or a stale ETag; apply now pins both to the
// member that answered the plan's read.
func TestSettingsThroughHAProxy(t *testing.T) {
	l, lb := haproxyLab(t, false)
	e := rosterEnv(t, l, entries(labEntry(l, "lb", "https://"+lb)))

	// Several passes: with three members round-robin, a single pass could
	// land GET and PUT on one member by chance.
	for _, v := range []string{"7", "8", "9", "11"} {
		e.mustApply(e.newModule(), mkcall("lb", "settings_present", "lb-settings", map[string]any{
			"config": map[string]any{"images.remote_cache_expiry": v},
		}))
	}
	e.mustConverged(e.newModule(), mkcall("lb", "settings_present", "lb-settings", map[string]any{
		"config": map[string]any{"images.remote_cache_expiry": "11"},
	}))
	if srv, _, err := e.client("node2").GetServer(); err != nil || srv.Config["images.remote_cache_expiry"] != "11" {
		t.Fatalf("node2 does not have the value written through haproxy: %v", err)
	}
}

// TestSharedResourcesThroughHAProxy: the other read-then-write paths
// through a round-robin balancer: a storage pool created from one state
// with a per-member map (pending entries, then the cluster-wide create),
// its description changed, a cluster group created and changed, a
// member's description changed. Each update is a GET and an ETag-checked
// PUT landing on different members: their ETags must agree.
func TestSharedResourcesThroughHAProxy(t *testing.T) {
	l, lb := haproxyLab(t, false)
	e := rosterEnv(t, l, entries(labEntry(l, "lb", "https://"+lb)))
	n2, _ := l.Member("node2")
	dirs := memberDirs(t, "node1", "node2", "node3")
	members := map[string]any{}
	for n, d := range dirs {
		members[n] = map[string]any{"source": d}
	}
	// Plan with one module and apply with another, as apply --plan does
	// from a saved plan: each has its own connection, so haproxy sends the
	// plan's GET and the apply's PUT to different members (round-robin per
	// connection: six fresh connections were answered by node2, node3,
	// node1, node2, node3, node1). Several times each, so the pairs vary.
	apply := func(c *module.Call) {
		t.Helper()
		r := e.plan(e.newModule(), c)
		if r.planErr != nil || r.plan.Fail || len(r.plan.Changes) == 0 {
			t.Fatalf("%s: plan: %v %+v", c.ID, r.planErr, r.plan)
		}
		out, err := e.newModule().Apply(context.Background(), c, r.plan)
		if err != nil || out.Failed {
			t.Fatalf("%s: apply through another member: %v %+v", c.ID, err, out)
		}
	}
	for _, desc := range []string{"a", "b", "c", "d"} {
		apply(mkcall("lb", "storage_pool_present", "lbpool", map[string]any{
			"driver": "dir", "description": "pool " + desc, "members": members}))
		apply(mkcall("lb", "cluster_group_present", "lbgroup", map[string]any{
			"description": "group " + desc}))
		apply(mkcall("lb", "cluster_member_present", "node2", map[string]any{
			"address": n2.Address, "description": "member " + desc}))
	}
	c := e.client("node3")
	if p, _, err := c.GetStoragePool("lbpool"); err != nil || p.Status != api.StoragePoolStatusCreated || p.Description != "pool d" {
		t.Fatalf("pool: %v %+v", err, p)
	}
	if g, _, err := c.GetClusterGroup("lbgroup"); err != nil || g.Description != "group d" {
		t.Fatalf("group: %v %+v", err, g)
	}
	if m, _, err := c.GetClusterMember("node2"); err != nil || m.Description != "member d" {
		t.Fatalf("member: %v %+v", err, m)
	}
	e.mustConverged(e.newModule(), mkcall("lb", "storage_pool_present", "lbpool", map[string]any{
		"driver": "dir", "description": "pool d", "members": members}))
}

// A converged pass with one member frozen, under the two patterns the
// seed names: haproxy with the PROXY protocol and health checks (the
// frozen member is routed around once its checks fail), and a roster
// address list whose first address is the frozen member (the client waits
// out the connect timeout, like DNS round-robin). The figures go to
// docs/benchmarks.md.
func TestFrozenMemberThroughHAProxyAndAddressList(t *testing.T) {
	l, lb := haproxyLab(t, true)
	n1, _ := l.Member("node1")
	n2, _ := l.Member("node2")
	n3, _ := l.Member("node3")
	e := rosterEnv(t, l, entries(labEntry(l, "lb", "https://"+lb), labEntry(l, "list", n2.URL(), n1.URL(), n3.URL())))
	settings := func(target string) *module.Call {
		return mkcall(target, "settings_present", target+"-settings", map[string]any{
			"config": map[string]any{"images.remote_cache_expiry": "12"},
		})
	}
	// Through haproxy with the PROXY protocol: apply, then a no-op re-apply.
	e.mustApply(e.newModule(), settings("lb"))
	e.mustConverged(e.newModule(), settings("lb"))

	labtest.Freeze(t, l, "node2")
	// fall 2 x inter 200ms: haproxy marks node2 down well within 2s.
	time.Sleep(2 * time.Second)
	pass := func(target string) time.Duration {
		start := time.Now()
		for i := 0; i < 3; i++ { // round-robin: every member gets its turn
			e.mustConverged(e.newModule(), settings(target))
		}
		return time.Since(start) / 3
	}
	viaLB := pass("lb")
	viaList := pass("list")
	t.Logf("converged pass with node2 frozen: haproxy %s, address list (node2 first, connect timeout %s) %s",
		viaLB.Round(time.Millisecond), incusconn.DefaultConnectTimeout, viaList.Round(time.Millisecond))
	if viaLB >= incusconn.DefaultConnectTimeout {
		t.Errorf("haproxy did not route around the frozen member: a pass took %s", viaLB)
	}
	if viaList < incusconn.DefaultConnectTimeout {
		t.Errorf("address list pass took %s, less than the connect timeout: was node2 tried first?", viaList)
	}
}

// haproxyLab is a clustered 3-member lab behind haproxy (round-robin per
// connection); with proxyProtocol, haproxy sends the PROXY header and
// every member trusts it. It returns the lab and haproxy's host:port.
func haproxyLab(t *testing.T, proxyProtocol bool) (*lab.Lab, string) {
	t.Helper()
	l := labtest.Start(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := l.Cluster(ctx); err != nil {
		t.Fatalf("failed to cluster the lab: %v", err)
	}
	var backends []string
	for _, m := range l.Members {
		backends = append(backends, m.Address)
		if !proxyProtocol {
			continue
		}
		// Trust haproxy's PROXY header (sent from 127.0.0.1); set on
		// each member in case the key is member-local.
		c := labtest.Client(t, l, m.Name)
		srv, _, err := c.GetServer()
		if err != nil {
			t.Fatal(err)
		}
		srv.Config["core.https_trusted_proxy"] = "127.0.0.1"
		if err := c.UpdateServer(srv.Writable(), ""); err != nil {
			t.Fatalf("failed to set core.https_trusted_proxy on %s: %v", m.Name, err)
		}
	}
	return l, labtest.StartHAProxy(t, backends, labtest.HAProxyOptions{ProxyProtocol: proxyProtocol})
}
