package incusconn_test

import (
	"context"
	"testing"

	"github.com/lxc/incus/v6/shared/api"

	"github.com/statectl/statectl/runner/incusconn"
	"github.com/statectl/statectl/runner/lab/labtest"
	"github.com/statectl/statectl/runner/roster"
)

// TestMemberETagMatchesIncus: the ETag computed from a member list entry
// is the one Incus gives the member (plain, and with a description,
// config, groups and failure domain set), so plans read the list once and
// apply with Incus's ETag. Through a pool, every member comes from one
// read of the list; a write bracket makes the next lookup read again.
func TestMemberETagMatchesIncus(t *testing.T) {
	l := labtest.Start(t, 2)
	ctx := context.Background()
	if err := l.Cluster(ctx); err != nil {
		t.Fatal(err)
	}
	c := labtest.Client(t, l, "node1")
	check := func(when string) {
		t.Helper()
		list, err := c.GetClusterMembers()
		if err != nil {
			t.Fatal(err)
		}
		for i := range list {
			_, want, err := c.GetClusterMember(list[i].ServerName)
			if err != nil {
				t.Fatal(err)
			}
			if got, err := incusconn.MemberETag(&list[i]); err != nil || got != want {
				t.Fatalf("%s: %s: computed ETag %s (%v), Incus says %s", when, list[i].ServerName, got, err, want)
			}
		}
	}
	check("fresh cluster")
	if err := c.CreateClusterGroup(api.ClusterGroupsPost{Name: "gpu"}); err != nil {
		t.Fatal(err)
	}
	m, etag, err := c.GetClusterMember("node2")
	if err != nil {
		t.Fatal(err)
	}
	put := m.Writable()
	put.Description = "rack 2, \"quoted\" <html>"
	put.Config = map[string]string{"user.rack": "r2", "scheduler.instance": "manual"}
	put.Groups = []string{"default", "gpu"}
	put.FailureDomain = "r2"
	if err := c.UpdateClusterMember("node2", put, etag); err != nil {
		t.Fatal(err)
	}
	check("member edited")

	var counter incusconn.Counter
	o := opts(&counter)
	p := incusconn.NewPool(entries(map[string]*roster.Entry{"node1": {Socket: l.Members[0].Socket}}), o)
	defer p.Close()
	conn, err := p.Get(ctx, "node1")
	if err != nil {
		t.Fatal(err)
	}
	before := counter.Reads()
	for _, name := range []string{"node1", "node2", "node2", "nosuch"} {
		m, etag, err := incusconn.ClusterMember(conn.Server, name)
		if name == "nosuch" {
			if m != nil || err != nil {
				t.Fatalf("nosuch: %v %v", m, err)
			}
			continue
		}
		_, want, _ := c.GetClusterMember(name)
		if err != nil || m == nil || etag != want {
			t.Fatalf("%s through the pool: %v %v, etag %s want %s", name, m, err, etag, want)
		}
	}
	if n := counter.Reads() - before; n != 1 {
		t.Errorf("four lookups read %d times, want once (the list)", n)
	}
	p.BeginWrite()
	p.EndWrite()
	before = counter.Reads()
	if _, _, err := incusconn.ClusterMember(conn.Server, "node1"); err != nil {
		t.Fatal(err)
	}
	if n := counter.Reads() - before; n != 1 {
		t.Errorf("after a write: %d reads, want 1", n)
	}
}
