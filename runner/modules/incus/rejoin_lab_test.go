package incus_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	incusclient "github.com/lxc/incus/v6/client"
	"github.com/lxc/incus/v6/shared/api"

	"github.com/statectl/statectl/runner/module"
	incusmod "github.com/statectl/statectl/runner/modules/incus"
)

// sqlRows runs query on database db ("local" or "global") of a member,
// as `incus admin sql` does.
func sqlRows(t *testing.T, s incusclient.InstanceServer, db, query string) [][]any {
	t.Helper()
	resp, _, err := s.RawQuery("POST", "/internal/sql", map[string]string{"database": db, "query": query}, "")
	if err != nil {
		t.Fatalf("sql %s %q: %v", db, query, err)
	}
	var b struct{ Results []struct{ Rows [][]any } }
	if err := json.Unmarshal(resp.Metadata, &b); err != nil || len(b.Results) == 0 {
		t.Fatalf("sql %s %q: %v %s", db, query, err, resp.Metadata)
	}
	return b.Results[0].Rows
}

// ghost leaves member name's address in the cluster's raft configuration
// while the cluster no longer lists it, and name's server standalone: the
// state a removal of the leader left in CI ("Unaccounted raft node(s) not
// found in 'nodes' table"). It drops the member row (what a removal's
// purge does, without its raft step) and disables clustering on the
// member (what the removal then tells it to do).
func (e *env) ghost(name string) {
	e.t.Helper()
	sqlRows(e.t, e.client("node1"), "global", "DELETE FROM nodes WHERE name='"+name+"'")
	if _, err := e.client(name).UpdateCluster(api.ClusterPut{Cluster: api.Cluster{Enabled: false}}, ""); err != nil {
		e.t.Fatalf("disable clustering on %s: %v", name, err)
	}
	m, _ := e.lab.Member(name)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		c, err := incusclient.ConnectIncusUnix(m.Socket, &incusclient.ConnectionArgs{
			HTTPClient: &http.Client{Timeout: 2 * time.Second}, SkipGetEvents: true})
		if err == nil {
			srv, _, err := c.GetServer()
			c.Disconnect()
			if err == nil && !srv.Environment.ServerClustered {
				break
			}
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%s did not come back standalone", name)
		}
	}
	if got := sqlRows(e.t, e.client(e.leader()), "local", "SELECT id FROM raft_nodes WHERE address='"+e.addr(name)+"'"); len(got) != 1 {
		e.t.Fatalf("the leader's raft configuration does not hold %s: %v", e.addr(name), got)
	}
}

// leader is the member name of the cluster's database leader.
func (e *env) leader() string {
	e.t.Helper()
	for n, m := range members(e.t, e.client("node1")) {
		if contains(m.Roles, "database-leader") {
			return n
		}
	}
	e.t.Fatal("no database leader")
	return ""
}

// leftovers lists what a join must not leave behind: live join tokens,
// pending member rows, and a raft configuration on the standalone joiner.
func (e *env) leftovers(joiner string) string {
	e.t.Helper()
	var out []string
	if tk := tokens(e.t, e.client("node1")); len(tk) > 0 {
		out = append(out, "live join tokens")
	}
	if rows := sqlRows(e.t, e.client("node1"), "global", "SELECT name FROM nodes WHERE state=1"); len(rows) > 0 {
		out = append(out, "pending member rows")
	}
	if rows := sqlRows(e.t, e.client(joiner), "local", "SELECT id FROM raft_nodes"); len(rows) > 0 {
		out = append(out, "a raft configuration on "+joiner)
	}
	return strings.Join(out, ", ")
}

// TestJoinStaleRaftAddress: a server re-joins at an address the cluster's
// raft configuration still holds. Incus accepts such a join, fails it in
// raft ("server address already in use") and leaves the joiner unable to
// join again (the next join hangs 30 s). The join is refused in the
// plan instead, quickly, naming the way out; nothing is left behind, and
// once the raft node is removed as the comment says, a re-run joins.
func TestJoinStaleRaftAddress(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 3)
	e.bootstrap("node2", "node3")
	e.ghost("node3")
	leader, addr := e.leader(), e.addr("node3")
	call := func() *module.Call {
		return mkcall("node3", "cluster_member_present", "node3", map[string]any{"address": addr, "cluster": []any{"node1"}})
	}

	start := time.Now()
	r := e.run(e.newModule(), call())
	took := time.Since(start)
	if r.planErr != nil || !r.plan.Fail || r.out == nil || !r.out.Failed {
		t.Fatalf("want a failing plan, got err=%v plan=%+v out=%+v", r.planErr, r.plan, r.out)
	}
	for _, want := range []string{"still holds " + addr, "on the leader " + leader, "`incus admin cluster remove-raft-node " + addr + "`", "re-run"} {
		if !strings.Contains(r.out.Comment, want) {
			t.Errorf("comment lacks %q: %s", want, r.out.Comment)
		}
	}
	if r.writes != 0 {
		t.Errorf("the refused join wrote %d times", r.writes)
	}
	if took > 15*time.Second {
		t.Errorf("refusing the join took %s", took)
	}
	if left := e.leftovers("node3"); left != "" {
		t.Fatalf("the refused join left %s", left)
	}

	// The way out the comment gives, then the re-run joins.
	if _, _, err := e.client(leader).RawQuery("DELETE", "/internal/cluster/raft-node/"+addr, nil, ""); err != nil {
		t.Fatalf("remove-raft-node: %v", err)
	}
	e.mustApply(e.newModule(), call())
	if _, ok := members(t, e.client("node1"))["node3"]; !ok {
		t.Fatal("node3 is not a member after the re-run")
	}
	e.mustConverged(e.newModule(), call())
}

// TestFailedJoinLeavesNothingToHangOn: a join that Incus fails in raft
// (the checks above skipped, so it is started) removes the pending member
// row it left and says the joiner must be wiped; the next run refuses the
// join at once instead of hanging on the wedged joiner for 30 s.
func TestFailedJoinLeavesNothingToHangOn(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 3)
	e.bootstrap("node2", "node3")
	e.ghost("node3")
	call := func() *module.Call {
		return mkcall("node3", "cluster_member_present", "node3", map[string]any{"address": e.addr("node3"), "cluster": []any{"node1"}})
	}

	m := e.newModule()
	incusmod.SkipJoinChecks(m)
	r := e.run(m, call())
	if r.applErr != nil || r.out == nil || !r.out.Failed {
		t.Fatalf("want a failed join, got err=%v out=%+v", r.applErr, r.out)
	}
	for _, want := range []string{"server address already in use", "removed the pending member record the join left", "Wipe the server of node3"} {
		if !strings.Contains(r.out.Comment, want) {
			t.Errorf("comment lacks %q: %s", want, r.out.Comment)
		}
	}
	if strings.Contains(r.out.Comment, "may still complete") {
		t.Errorf("a join Incus failed is said to maybe complete: %s", r.out.Comment)
	}
	if rows := sqlRows(t, e.client("node1"), "global", "SELECT name FROM nodes WHERE state=1"); len(rows) > 0 {
		t.Errorf("the failed join left pending member rows %v", rows)
	}
	if tk := tokens(t, e.client("node1")); len(tk) > 0 {
		t.Errorf("the failed join left join tokens %v", tk)
	}

	// The re-run: the joiner is wedged (a join would hang), refused fast.
	start := time.Now()
	r = e.run(e.newModule(), call())
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("the re-run took %s", took)
	}
	if r.planErr != nil || !r.plan.Fail || !strings.Contains(r.plan.Comment, "Wipe the server of node3") {
		t.Fatalf("re-run: want a failing plan naming the wipe, got err=%v plan=%+v", r.planErr, r.plan)
	}
	if r.writes != 0 {
		t.Errorf("the re-run wrote %d times", r.writes)
	}
}
