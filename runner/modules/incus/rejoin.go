package incus

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	incus "github.com/lxc/incus/v6/client"
	"github.com/lxc/incus/v6/shared/api"
)

// Leftovers that make a join fail or hang (Incus 6.0.4, seen on labs):
//
//   - A raft node at the joiner's address that no member holds. Removing
//     a member can leave its entry in the cluster's raft configuration
//     (seen after removing the leader under load: the new leader logs
//     "Unaccounted raft node(s) not found in 'nodes' table"); it stays
//     there (75 s measured, no sign of Incus dropping it). A join at that
//     address is accepted, then fails in raft with "server address
//     already in use".
//   - Such a failed join leaves the joiner with a raft configuration while
//     not clustered and its cluster database locked: every later join's
//     PUT /1.0/cluster hangs until the request times out (30 s). Only
//     wiping the server helps (a restart would start it as a member of a
//     cluster that does not list it).
//   - It also leaves a pending member row (name and address) in the
//     cluster: 6.0.4's join revert does not remove it, the API cannot
//     (DELETE .../members/NAME?pending=1 is newer), and the next Accept
//     of that name fails.
//
// The raft configuration is only visible in the leader's local database
// (its raft_nodes table, refreshed each heartbeat round, every 10 s by
// default; other members only get the nodes the cluster lists), read
// with GET /internal/sql (a read-only dump; the POST form, which takes a
// query, counts as a write).

// staleRaftWait is how long a join waits for a raft node at the joiner's
// address to leave the leader's table before failing: one heartbeat
// interval (half of cluster.offline_threshold) and a margin, since the
// table lags the raft configuration by up to that (8.5 s measured after
// a removal, with the default 20 s threshold), capped at
// maxStaleRaftWait. A raft node that stays longer is left behind.
func staleRaftWait(info *serverInfo) time.Duration {
	threshold := 20 * time.Second
	if info != nil {
		if v, err := strconv.Atoi(info.config["cluster.offline_threshold"]); err == nil && v > 0 {
			threshold = time.Duration(v) * time.Second
		}
	}
	return min(threshold/2+2*time.Second, maxStaleRaftWait)
}

const maxStaleRaftWait = 20 * time.Second

// staleRaftReadTimeout bounds one look at the leader's table.
const staleRaftReadTimeout = 5 * time.Second

// raftNode is one row of a daemon's local raft_nodes table.
type raftNode struct {
	ID      int64
	Address string
	Role    int
}

// roleName is a raft role as Incus logs it.
func (n raftNode) roleName() string {
	switch n.Role {
	case 0:
		return "voter"
	case 1:
		return "stand-by"
	case 2:
		return "spare"
	}
	return "role " + strconv.Itoa(n.Role)
}

var raftRow = regexp.MustCompile(`^INSERT INTO raft_nodes VALUES\((\d+),'([^']*)',(\d+)[,)]`)

// parseRaftDump extracts the raft_nodes rows of a database dump.
func parseRaftDump(dump string) []raftNode {
	var out []raftNode
	for _, line := range strings.Split(dump, "\n") {
		m := raftRow.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		id, _ := strconv.ParseInt(m[1], 10, 64)
		role, _ := strconv.Atoi(m[3])
		out = append(out, raftNode{ID: id, Address: m[2], Role: role})
	}
	return out
}

// localRaftNodes reads the raft_nodes table of s's local database.
func localRaftNodes(ctx context.Context, s incus.InstanceServer) ([]raftNode, error) {
	resp, err := within(ctx, func() (*api.Response, error) {
		r, _, err := s.RawQuery("GET", "/internal/sql?database=local", nil, "")
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("failed to read the local database: %w", err)
	}
	var dump struct {
		Text string `json:"text"`
	}
	if err := json.Unmarshal(resp.Metadata, &dump); err != nil {
		return nil, fmt.Errorf("failed to read the local database: %w", err)
	}
	return parseRaftDump(dump.Text), nil
}

// wedgedJoiner reports whether the standalone server js holds a raft
// configuration: the trace of a join that failed in raft (see above). A
// server whose local database cannot be read is not called wedged.
func wedgedJoiner(ctx context.Context, js incus.InstanceServer) bool {
	nodes, err := localRaftNodes(ctx, js)
	return err == nil && len(nodes) > 0
}

// wedgedComment is the failure for a joiner a failed join left wedged.
func wedgedComment(name string) string {
	return fmt.Sprintf("the server of %s is not clustered but holds the raft configuration of an earlier join that failed: Incus 6.0.4 does not undo such a join and "+
		"leaves its daemon unable to join again (a new join would hang), so none was started. Wipe the server of %s (its Incus state) and re-run", name, name)
}

// staleRaft is a raft node at an address no cluster member holds.
type staleRaft struct {
	node   raftNode
	leader string // member name of the leader that reported it
}

// findStaleRaft looks for a raft node at addr in the cluster of view
// that no listed member holds. It returns nil when there is none or
// when the leader's database cannot be read (not a roster entry, or
// the endpoint refused): the check is a diagnosis, the join stays the
// judge.
func (m *Module) findStaleRaft(ctx context.Context, view *clusterView, addr string) (*staleRaft, error) {
	if m.noJoinChecks {
		return nil, nil
	}
	members, err := within(ctx, func() ([]api.ClusterMember, error) { return view.srv.GetClusterMembers() })
	if err != nil {
		return nil, nil
	}
	var leader *api.ClusterMember
	for i := range members {
		if memberAddress(&members[i]) == addr {
			return nil, nil // a member holds it: Incus names it itself
		}
		for _, r := range members[i].Roles {
			if r == "database-leader" {
				leader = &members[i]
			}
		}
	}
	if leader == nil {
		return nil, nil
	}
	ls := view.srv
	if view.info == nil || leader.ServerName != view.info.name {
		name := m.rosterAt(memberAddress(leader))
		if _, ok := m.roster.Entries[name]; !ok {
			return nil, nil
		}
		if ls, err = m.conn(ctx, name); err != nil {
			return nil, nil
		}
	}
	nodes, err := localRaftNodes(ctx, ls)
	if err != nil {
		return nil, nil
	}
	for _, n := range nodes {
		if normAddress(n.Address) == addr {
			return &staleRaft{node: n, leader: leader.ServerName}, nil
		}
	}
	return nil, nil
}

// awaitStaleRaft waits up to d (and while ctx runs) for the cluster to
// drop a raft node at addr; it returns the one still there.
func (m *Module) awaitStaleRaft(ctx context.Context, view *clusterView, addr string, d time.Duration) (*staleRaft, error) {
	deadline := time.Now().Add(d)
	cut := false
	if dl, ok := ctx.Deadline(); ok && dl.Add(-time.Second).Before(deadline) {
		// A state's time limit shorter than the table's lag: a node
		// still listed then may be lag (seen right after a removal), so
		// it does not stop the join; the join stays the judge.
		deadline, cut = dl.Add(-time.Second), true
	}
	for {
		// A member that stops answering fails the read, not the wait.
		rctx, cancel := context.WithTimeout(ctx, min(staleRaftReadTimeout, max(time.Until(deadline), 500*time.Millisecond)))
		st, err := m.findStaleRaft(rctx, view, addr)
		cancel()
		if err != nil || st == nil {
			return st, err
		}
		if !time.Now().Before(deadline) {
			if cut {
				return nil, nil
			}
			return st, nil
		}
		select {
		case <-ctx.Done():
			return nil, nil
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// staleRaftComment is the failure for a join blocked by st.
func staleRaftComment(name, addr string, st *staleRaft, waited time.Duration) string {
	return fmt.Sprintf("cluster member %s cannot join at %s yet: the cluster's raft configuration still holds %s (raft node %d, %s) although no member has that address "+
		"(left by the removal of the member that had it); Incus would refuse the join (\"server address already in use\") and leave %s unable to join again, so none was started. "+
		"It did not go within %s: re-run in a moment; if it stays, remove it on the leader %s with `incus admin cluster remove-raft-node %s` and re-run",
		name, addr, addr, st.node.ID, st.node.roleName(), name, waited, st.leader, addr)
}

// pendingRow is a member row a join created and did not finish.
type pendingRow struct {
	Name, Address string
}

// pendingMembers lists the pending member rows for name or addr. Only
// the global database holds them (GET /1.0/cluster/members skips them);
// the query is sent with POST, so apply calls it, never plan.
func pendingMembers(ctx context.Context, s incus.InstanceServer, name, addr string) ([]pendingRow, error) {
	res, err := globalSQL(ctx, s, fmt.Sprintf("SELECT name, address FROM nodes WHERE state=1 AND (name=%s OR address=%s) ORDER BY name", sqlQuote(name), sqlQuote(addr)))
	if err != nil {
		return nil, err
	}
	var out []pendingRow
	for _, r := range res {
		if len(r) == 2 {
			n, _ := r[0].(string)
			a, _ := r[1].(string)
			out = append(out, pendingRow{Name: n, Address: a})
		}
	}
	return out, nil
}

// deletePending removes the pending member row name at addr (what the
// join revert of newer Incus does); rows of finished members are never
// touched.
func deletePending(ctx context.Context, s incus.InstanceServer, name, addr string) error {
	_, err := globalSQL(ctx, s, fmt.Sprintf("DELETE FROM nodes WHERE state=1 AND name=%s AND address=%s", sqlQuote(name), sqlQuote(addr)))
	return err
}

// pendingComment is the failure for a join blocked by pending rows.
func pendingComment(name string, rows []pendingRow) string {
	var list []string
	for _, r := range rows {
		list = append(list, fmt.Sprintf("%s at %s", r.Name, r.Address))
	}
	return fmt.Sprintf("cluster member %s cannot join: the cluster holds a pending member record (%s) that an earlier failed join left and no join is running on the server of %s, so none was started. "+
		"Remove it on a member with `incus admin sql global \"DELETE FROM nodes WHERE state=1 AND name='%s'\"` and re-run",
		name, strings.Join(list, ", "), name, strings.ReplaceAll(name, "'", "''"))
}

// globalSQL runs one statement on the cluster database of s.
func globalSQL(ctx context.Context, s incus.InstanceServer, query string) ([][]any, error) {
	resp, err := within(ctx, func() (*api.Response, error) {
		r, _, err := s.RawQuery("POST", "/internal/sql", map[string]string{"database": "global", "query": query}, "")
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("failed to query the cluster database: %w", err)
	}
	var batch struct {
		Results []struct {
			Rows [][]any `json:"rows"`
		} // Incus sends "Results" (no tag)
	}
	if err := json.Unmarshal(resp.Metadata, &batch); err != nil {
		return nil, fmt.Errorf("failed to read the cluster database's answer: %w", err)
	}
	if len(batch.Results) == 0 {
		return nil, nil
	}
	return batch.Results[0].Rows, nil
}

// sqlQuote quotes s as an SQL string literal.
func sqlQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// cleanupFailedJoin removes the pending member row a failed join of name
// at addr left in the cluster of cs, and says how that went (a comment
// suffix, "" when there was none).
func cleanupFailedJoin(ctx context.Context, cs incus.InstanceServer, name, addr string) string {
	rows, err := pendingMembers(ctx, cs, name, addr)
	if err != nil {
		return fmt.Sprintf(" (failed to look for a pending member record the join left: %v)", err)
	}
	for _, r := range rows {
		if r.Name != name || normAddress(r.Address) != addr {
			continue // not this join's: pendingComment names it on a re-run
		}
		if err := deletePending(ctx, cs, r.Name, r.Address); err != nil {
			return fmt.Sprintf(" (failed to remove the pending member record the join left: %v)", err)
		}
		return " (removed the pending member record the join left)"
	}
	return ""
}
