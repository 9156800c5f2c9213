package incus

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	incus "github.com/lxc/incus/v6/client"
	"github.com/lxc/incus/v6/shared/api"

	"github.com/statectl/statectl/runner/incusconn"
	"github.com/statectl/statectl/runner/module"
)

// cluster_member_present: `name` is a cluster member at `address`, with
// the description, failure domain, groups, roles and config given.

var clusterMemberPresent = &function{
	spec: module.FuncSpec{
		Name: "cluster_member_present",
		Doc: "Ensure `name` is a cluster member at `address`. An absent member joins with a single-use " +
			"token minted on the cluster (or the pre-issued cluster_token); a present member converges " +
			"description, failure_domain, groups, roles and config. A member's address cannot change in place. " +
			"A join cut short (Ctrl-C, SIGTERM, timeout) revokes its token and re-reads membership before statectl exits; " +
			"a re-run revokes tokens a killed run left and waits for a join still running instead of starting another.",
		Args: []module.ArgSpec{
			{Name: "name", Type: module.TypeString, Required: true, Doc: "Member name; also the roster entry of the joining server."},
			{Name: "address", Type: module.TypeString, Required: true, Doc: "Member address host[:port] (default port 8443)."},
			{Name: "cluster", Type: module.TypeStringList, Doc: "Roster name(s) of existing members to join through, tried in order; an address names the roster entry at it (url, addresses or incus_address grain); default: the target when it is clustered."},
			{Name: "cluster_token", Type: module.TypeString, Secret: true, Doc: "Pre-issued join token (incus cluster add), used when the runner cannot reach the cluster."},
			{Name: "cluster_password", Type: module.TypeString, Secret: true, Doc: "Accepted for Salt formula compatibility and ignored: Incus has no trust password, joins use tokens."},
			{Name: "description", Type: module.TypeString, Doc: "Member description."},
			{Name: "failure_domain", Type: module.TypeString, Doc: "Failure domain (default: default)."},
			{Name: "groups", Type: module.TypeStringList, Doc: "Exact set of cluster groups; missing groups are created."},
			{Name: "roles", Type: module.TypeStringList, Doc: "Writable roles (event-hub, ovn-chassis); database roles are automatic and ignored."},
			{Name: "config", Type: module.TypeMap, Doc: "Member config (scheduler.instance, user.*); listed keys are enforced, null removes a key."},
			{Name: "member_config", Type: module.TypeList, Doc: "Join answers: [{entity, name, key, value}] for storage-pool and network member keys; override the defaults."},
		},
	},
	decode: decodeMemberPresent,
	plan:   planMemberPresent,
	apply:  applyMemberPresent,
}

// presentArgs are cluster_member_present's arguments.
type presentArgs struct {
	address      string // normalised host:port
	want         *memberWant
	cluster      []string // roster names to reach the cluster through
	memberConfig []api.ClusterMemberConfigKey
	hasPassword  bool   // cluster_password given (ignored: Incus joins with tokens)
	token        string // pre-issued cluster_token, "" for none
}

func decodeMemberPresent(c *module.Call) (any, error) {
	if c.Name == "" {
		return nil, fmt.Errorf("argument name: must not be empty")
	}
	addr, ok, err := argString(c.Args, "address")
	if err != nil {
		return nil, err
	}
	if !ok || addr == "" {
		return nil, fmt.Errorf("argument address: required (host[:port])")
	}
	a := &presentArgs{address: normAddress(addr)}
	if a.want, err = parseWant(c.Args); err != nil {
		return nil, err
	}
	if a.cluster, _, err = argStrings(c.Args, "cluster"); err != nil {
		return nil, err
	}
	if a.memberConfig, err = argMemberConfig(c.Args, "member_config"); err != nil {
		return nil, err
	}
	if _, a.hasPassword, err = argString(c.Args, "cluster_password"); err != nil {
		return nil, err
	}
	if a.token, _, err = argString(c.Args, "cluster_token"); err != nil {
		return nil, err
	}
	if a.token != "" {
		t, err := decodeToken(a.token)
		if err != nil {
			return nil, err
		}
		if t.ServerName != c.Name {
			return nil, fmt.Errorf("cluster_token was issued for member %s, not %s", t.ServerName, c.Name)
		}
	}
	return a, nil
}

// presentPrivate is what apply needs of the plan besides its Action (join
// or update). Via empty on a join means the pre-issued token.
type presentPrivate struct {
	Via  string `json:"via,omitempty"`
	ETag string `json:"etag,omitempty"`
}

// joinSend is what a join plan sends to the states after it: settings
// plans of the joiner read it (see joinedView).
func joinSend(via, addr string) map[string]string {
	return map[string]string{"via": via, "address": addr}
}

func planMemberPresent(ctx context.Context, m *Module, c *call) (*module.Plan, error) {
	args := c.args.(*presentArgs)
	want, addr := args.want, args.address
	tgt, err := targetName(c)
	if err != nil {
		return nil, err
	}
	candidates := append([]string{}, args.cluster...)
	if len(candidates) == 0 {
		candidates = []string{tgt}
	}
	// A joiner that is already clustered can answer for its cluster.
	candidates = append(candidates, c.Name)
	view, notes := m.findCluster(ctx, candidates)
	token := args.token

	if view == nil && token == "" && c.Test {
		if b, ok := pendingBootstrap(c.Upstream); ok {
			// Test mode of a formation: the cluster this member joins is
			// created earlier in the same run, so there is nothing to plan
			// against yet. Say what would happen, deferred on the bootstrap.
			if b.Name == c.Name {
				return &module.Plan{Action: module.Update, Deferred: fmt.Sprintf(
					"Cluster member %s would be converged once it has bootstrapped the cluster (%s)", c.Name, b.ID)}, nil
			}
			return &module.Plan{
				Action:   module.Join,
				Changes:  joinChanges(c.Name, addr, want),
				Deferred: fmt.Sprintf("Cluster member %s would join at %s after %s bootstraps the cluster", c.Name, addr, b.Name),
				Send:     joinSend(b.Target, addr),
			}, nil
		}
	}
	if view == nil {
		if op := m.runningJoin(ctx, c.Name); op != nil {
			// Half joined: the joiner waits for a cluster that does not
			// answer. Another join would only queue behind it.
			return &module.Plan{Fail: true, Comment: fmt.Sprintf(
				"Cluster member %s is half joined: a join started earlier (operation %s, since %s) is still running on its server, waiting for its cluster (%s); no other join is started. "+
					"Bring the cluster's members back and re-run: the join may still finish. To abandon it, restart the daemon of %s; then, if the cluster lists %s, %s",
				c.Name, op.ID, op.CreatedAt.UTC().Format(time.RFC3339), strings.Join(notes, "; "), c.Name, c.Name, removeWayOut(c.Name))}, nil
		}
		if token == "" {
			return nil, fmt.Errorf("no clustered member reachable to join %s through (%s): set cluster to a reachable member's roster name (with the shipped states: pillar incus:cluster:bootstrap), or give a pre-issued cluster_token",
				c.Name, strings.Join(notes, "; "))
		}
		return &module.Plan{
			Action:  module.Join,
			Changes: joinChanges(c.Name, addr, want),
			Comment: fmt.Sprintf("Cluster member %s would join at %s with the pre-issued token (cluster not reachable: %s)", c.Name, addr, strings.Join(notes, "; ")),
			Private: encodePrivate(presentPrivate{}),
			Send:    joinSend("", addr),
		}, nil
	}

	// From the run's member list: one read serves every member's state.
	mem, etag, err := incusconn.ClusterMember(view.srv, c.Name)
	if err != nil {
		return nil, err
	}
	if mem == nil {
		return planJoin(ctx, m, c, view, addr, want)
	}
	if cur := memberAddress(mem); cur != addr {
		return &module.Plan{Fail: true, Comment: fmt.Sprintf(
			"cluster member %s is at %s, not %s: a member's address cannot change in place; remove it (cluster_member_absent), reset the server and let this state re-join it at the new address",
			c.Name, cur, addr)}, nil
	}
	_, changes, missing, err := want.diff(view.srv, mem.ClusterMemberPut)
	if err != nil {
		return nil, err
	}
	status := ""
	if mem.Status != "Online" {
		// Membership is converged whatever the daemon's health, but an
		// operator reading a green state must not miss this.
		status = fmt.Sprintf(" (status %s: %s)", mem.Status, mem.Message)
	}
	if len(changes) == 0 {
		return &module.Plan{Comment: fmt.Sprintf("Cluster member %s is present at %s and as specified%s", c.Name, addr, status)}, nil
	}
	comment := fmt.Sprintf("Cluster member %s would be updated%s", c.Name, status)
	if len(missing) > 0 {
		comment += fmt.Sprintf("; cluster groups %s would be created", strings.Join(missing, ", "))
	}
	return &module.Plan{
		Action:  module.Update,
		Changes: changes,
		Comment: comment,
		Private: encodePrivate(presentPrivate{Via: view.via, ETag: etag}),
	}, nil
}

// planJoin plans the join of an absent member after checking the joining
// server can join.
func planJoin(ctx context.Context, m *Module, c *call, view *clusterView, addr string, want *memberWant) (*module.Plan, error) {
	js, err := m.conn(ctx, c.Name)
	if err != nil {
		return nil, fmt.Errorf("cluster member %s is absent and the joining server is unreachable: %w", c.Name, err)
	}
	jinfo, err := readServer(js)
	if err != nil {
		return nil, fmt.Errorf("cluster member %s is absent and the joining server is unreachable: %w", c.Name, err)
	}
	if jinfo.clustered {
		// A join finishing (one an earlier run sent): Incus calls the
		// joiner clustered a moment before the cluster lists it.
		if jinfo.name == c.Name && listedWithin(ctx, view.srv, c.Name, sentJoinWait) {
			return planMemberPresent(ctx, m, c)
		}
		return &module.Plan{Fail: true, Comment: strandedMember(c.Name, jinfo.name, view.via)}, nil
	}
	// A join an earlier run sent may still be running on the joiner (the
	// run was killed, or its cluster stopped answering): apply waits for
	// it rather than queueing another behind it.
	if op, err := joiningOp(js); err != nil {
		return nil, fmt.Errorf("cluster member %s is absent and its server's operations cannot be read: %w", c.Name, err)
	} else if op != nil {
		return &module.Plan{
			Action:  module.Join,
			Changes: joinChanges(c.Name, addr, want),
			Comment: fmt.Sprintf("Cluster member %s: a join started earlier is still running on its server (operation %s, since %s); apply waits for it instead of starting another",
				c.Name, op.ID, op.CreatedAt.UTC().Format(time.RFC3339)),
			Private: encodePrivate(presentPrivate{Via: view.via}),
			Send:    joinSend(view.via, addr),
		}, nil
	}
	// A failed join can leave the joiner unable to join again, and the
	// cluster a raft node at its address that makes any join fail that
	// way (see rejoin.go): say so instead of starting a join that fails
	// or hangs.
	if !m.noJoinChecks && wedgedJoiner(ctx, js) {
		return &module.Plan{Fail: true, Comment: wedgedComment(c.Name)}, nil
	}
	members, err := view.srv.GetClusterMembers()
	if err != nil {
		return nil, fmt.Errorf("failed to list cluster members: %w", err)
	}
	// Without quorum the join stalls until the daemon gives up, and Incus
	// may still complete it later, behind the run's back.
	l := probeMembers(ctx, members, "", view.info.name)
	voters := l.voters("")
	if up, down := l.answering(voters); len(up)*2 <= len(voters) {
		return &module.Plan{Fail: true, Comment: fmt.Sprintf(
			"cluster member %s cannot join: only %d of the %d database members of the cluster of %s answer, so it has no quorum (%s); bring them back and re-run",
			c.Name, len(up), len(voters), view.via, l.describeDown(down))}, nil
	}
	// Every member takes part in a join: one that accepts connections but
	// does not answer (frozen) stalls it, even with quorum.
	if len(l.stalled) > 0 {
		return &module.Plan{Fail: true, Comment: fmt.Sprintf(
			"cluster member %s cannot join now: %s; a join would stall until they answer. Re-run once they do, or once the cluster marks them offline (cluster.offline_threshold)",
			c.Name, l.describeDown(l.stalled))}, nil
	}
	// Every member answers by now, the leader too.
	wait := staleRaftWait(view.info)
	if st, err := m.awaitStaleRaft(ctx, view, addr, wait); err != nil {
		return nil, err
	} else if st != nil {
		return &module.Plan{Fail: true, Comment: staleRaftComment(c.Name, addr, st, wait)}, nil
	}
	changes := joinChanges(c.Name, addr, want)
	comment := fmt.Sprintf("Cluster member %s would join the cluster of %s at %s", c.Name, view.via, addr)
	if c.args.(*presentArgs).hasPassword {
		comment += " (cluster_password ignored: Incus joins with tokens)"
	}
	return &module.Plan{
		Action:  module.Join,
		Changes: changes,
		Comment: comment,
		Private: encodePrivate(presentPrivate{Via: view.via}),
		Send:    joinSend(view.via, addr),
	}, nil
}

func applyMemberPresent(ctx context.Context, m *Module, c *call, p *module.Plan) (*module.Outcome, error) {
	var priv presentPrivate
	if err := decodePrivate(p, &priv); err != nil {
		return nil, err
	}
	want := c.args.(*presentArgs).want
	switch p.Action {
	case module.Update:
		return applyMemberUpdate(ctx, m, c, priv, want)
	case module.Join:
		return applyJoin(ctx, m, c, priv, want)
	}
	return nil, fmt.Errorf("unknown plan action %q", p.Action)
}

func applyMemberUpdate(ctx context.Context, m *Module, c *call, priv presentPrivate, want *memberWant) (*module.Outcome, error) {
	s, err := m.conn(ctx, priv.Via)
	if err != nil {
		return nil, err
	}
	mem, _, err := incusconn.ReadMember(s, c.Name)
	if err != nil {
		return nil, err
	}
	if mem == nil {
		return &module.Outcome{Failed: true, Comment: errConcurrent("cluster member "+c.Name).Error() + " (it was removed)"}, nil
	}
	changes, err := m.updateMember(s, c.Name, mem, priv.ETag, want)
	if err != nil {
		if isStale(err) {
			return &module.Outcome{Failed: true, Comment: errConcurrent("cluster member " + c.Name).Error()}, nil
		}
		// Errors lie: re-read before calling it a failure.
		if now, _, rerr := incusconn.ReadMember(s, c.Name); rerr == nil && now != nil {
			if _, left, _, derr := want.diff(s, now.ClusterMemberPut); derr == nil && len(left) == 0 {
				_, done, _, _ := want.diff(nil, mem.ClusterMemberPut)
				return &module.Outcome{Changes: done, Comment: fmt.Sprintf("Cluster member %s updated (Incus reported an error, but the member is as specified: %v)", c.Name, err)}, nil
			}
		}
		return nil, err
	}
	return &module.Outcome{Changes: changes, Comment: fmt.Sprintf("Cluster member %s updated", c.Name)}, nil
}

// updateMember creates missing groups and PUTs the member with etag.
func (m *Module) updateMember(s incus.InstanceServer, name string, mem *api.ClusterMember, etag string, want *memberWant) (map[string]any, error) {
	put, changes, missing, err := want.diff(s, mem.ClusterMemberPut)
	if err != nil {
		return nil, err
	}
	if len(changes) == 0 {
		return nil, nil
	}
	if len(missing) > 0 && etag != "" {
		// Creating a group is a write the member PUT's ETag does not
		// guard: check the ETag first, so a concurrent edit fails before
		// anything is written (a race remains, narrowed to milliseconds).
		if _, now, err := s.GetClusterMember(name); err == nil && now != etag {
			return nil, api.StatusErrorf(http.StatusPreconditionFailed, "ETag of cluster member %s changed since the plan", name)
		}
	}
	for _, g := range missing {
		err := s.CreateClusterGroup(api.ClusterGroupsPost{Name: g, ClusterGroupPut: api.ClusterGroupPut{Description: "Created by statectl"}})
		if err != nil && !api.StatusErrorCheck(err, 409) {
			return nil, fmt.Errorf("failed to create cluster group %s: %w", g, err)
		}
	}
	if err := s.UpdateClusterMember(name, put, etag); err != nil {
		if isStale(err) {
			return nil, err
		}
		return nil, fmt.Errorf("failed to update cluster member %s: %w", name, err)
	}
	return changes, nil
}

func applyJoin(ctx context.Context, m *Module, c *call, priv presentPrivate, want *memberWant) (*module.Outcome, error) {
	addr := c.args.(*presentArgs).address
	js, err := m.conn(ctx, c.Name)
	if err != nil {
		return nil, err
	}

	var (
		cs      incus.InstanceServer // the cluster, nil in token mode
		tok     *api.ClusterMemberJoinToken
		tokOpID string
		notes   []string
	)
	if priv.Via != "" {
		if cs, err = m.conn(ctx, priv.Via); err != nil {
			return nil, err
		}
	}
	earlier, err := within(ctx, func() (*api.Operation, error) { return joiningOp(js) })
	if err != nil {
		return nil, fmt.Errorf("failed to read the operations of %s: %w", c.Name, err)
	}
	if earlier != nil {
		out, err := awaitEarlierJoin(ctx, m, c, cs, js, earlier, want)
		if out != nil || err != nil {
			return out, err
		}
		// It failed and left no member: a join of our own follows.
		notes = append(notes, fmt.Sprintf("a join started earlier failed: %s", earlier.Err))
	} else if info, err := within(ctx, func() (*serverInfo, error) { return readServer(js) }); err == nil && info.clustered {
		// A join started earlier finished after the plan read the joiner.
		actx, cancel := afterCtx(ctx)
		defer cancel()
		// The joiner calls itself clustered a moment before the cluster
		// lists it: give the listing the time a join takes.
		if cs != nil {
			listedWithin(actx, cs, c.Name, sentJoinWait)
		}
		out, err := joinedMeanwhile(actx, ctx, m, c, cs, "by a join that finished after the plan", want)
		if out == nil && err == nil {
			out = &module.Outcome{Failed: true, Comment: strandedMember(c.Name, info.name, priv.Via)}
		}
		return out, err
	}
	// The plan's checks again (a saved plan may be old), and the pending
	// member rows, which only a POST can read: see rejoin.go.
	if !m.noJoinChecks && wedgedJoiner(ctx, js) {
		return &module.Outcome{Failed: true, Comment: wedgedComment(c.Name)}, nil
	}
	if priv.Via != "" && !m.noJoinChecks {
		view := &clusterView{via: priv.Via, srv: cs}
		if info, err := within(ctx, func() (*serverInfo, error) { return readServer(cs) }); err == nil {
			view.info = info
		}
		wait := staleRaftWait(view.info)
		if st, err := m.awaitStaleRaft(ctx, view, addr, wait); err != nil {
			return nil, err
		} else if st != nil {
			return &module.Outcome{Failed: true, Comment: staleRaftComment(c.Name, addr, st, wait)}, nil
		}
		if rows, err := pendingMembers(ctx, cs, c.Name, addr); err == nil && len(rows) > 0 {
			return &module.Outcome{Failed: true, Comment: pendingComment(c.Name, rows)}, nil
		}
	}
	if priv.Via != "" {
		// A run killed between minting and sending (SIGKILL) left a
		// live token no code of its own could revoke: this run does.
		if n, err := revokeStaleTokens(ctx, cs, c.Name); err != nil {
			return nil, err
		} else if n > 0 {
			notes = append(notes, fmt.Sprintf("revoked %d join token(s) for %s an earlier run left", n, c.Name))
		}
		tok, tokOpID, err = mintToken(ctx, cs, c.Name)
		if tok != nil {
			c.mask.add(tok.String())
			c.mask.add(tok.Secret)
		}
		if err != nil {
			actx, cancel := afterCtx(ctx)
			defer cancel()
			_, _ = revokeToken(actx, cs, tokOpID) // best effort: the error below is what matters
			return nil, err
		}
	} else {
		if tok, err = decodeToken(c.args.(*presentArgs).token); err != nil {
			return nil, err
		}
		c.mask.add(tok.Secret)
	}

	joinOp, joinErr := join(ctx, cs, js, c, tok, addr)
	// From here on ctx may be over (a timeout, an interrupt): the token is
	// revoked and membership re-read on a context of their own, so the
	// result says what happened, not what the interrupted call saw.
	actx, cancel := afterCtx(ctx)
	defer cancel()
	joinFailed := false // the joiner's join operation ended in failure
	if joinErr != nil {
		why := cutShort(ctx)
		if why != "" {
			joinErr = fmt.Errorf("%s: %w", why, joinErr)
		}
		if joinOp != "" {
			// The joiner accepted the join: it goes on without us. Give it
			// the time a join takes before reading the outcome.
			wctx, wcancel := context.WithTimeout(actx, sentJoinWait)
			switch err := waitOpID(wctx, js, joinOp); {
			case err == nil && why != "":
				joinErr = nil
				notes = append(notes, why+", but the join had been sent and completed")
			case err == nil:
				joinErr = nil
			case errors.Is(err, context.DeadlineExceeded):
				notes = append(notes, fmt.Sprintf("the join is still running on %s (operation %s): it finishes once every cluster member answers, or fails; re-run to check, a re-run waits for it", c.Name, joinOp))
			case !errors.Is(err, context.Canceled):
				joinFailed = true
			}
			wcancel()
		}
	}
	m.forget(c.Name)
	if cs == nil {
		// Token mode: once joined, the joiner is our view of the cluster.
		if js, err = m.conn(actx, c.Name); err != nil {
			return nil, fmt.Errorf("joined %s but failed to reconnect to it: %w", c.Name, err)
		}
		cs = js
	}
	note := func(comment string) string {
		for _, n := range notes {
			comment += " (" + n + ")"
		}
		return comment
	}

	// Re-read membership whatever join said: errors lie.
	type read struct {
		mem  *api.ClusterMember
		etag string
	}
	got, rerr := within(actx, func() (read, error) {
		mem, etag, err := incusconn.ReadMember(cs, c.Name)
		return read{mem, etag}, err
	})
	mem, etag := got.mem, got.etag
	if rerr != nil && joinErr == nil {
		return nil, rerr
	}
	if mem == nil {
		if joinErr == nil {
			joinErr = fmt.Errorf("the join finished but %s is not listed as a member", c.Name)
		}
		comment := fmt.Sprintf("Cluster member %s failed to join at %s: %v", c.Name, addr, joinErr)
		if rerr != nil {
			comment += fmt.Sprintf(" (re-reading membership failed too: %v)", rerr)
		}
		if priv.Via != "" {
			switch fate, err := revokeToken(actx, cs, tokOpID); {
			case err != nil:
				comment += fmt.Sprintf(" (failed to revoke the join token, operation %s: %v; delete it with `incus operation delete %s`)", tokOpID, err, tokOpID)
			case fate == "used" && joinFailed:
				comment += " (the join token was used by the failed join)"
			case fate == "used":
				comment += " (the join token was used: Incus may still complete the join once every member, the joiner included, answers; re-run to check)"
			default:
				comment += " (join token revoked)"
			}
			if joinFailed {
				comment += cleanupFailedJoin(actx, cs, c.Name, addr)
			}
		}
		if joinFailed && wedgedJoiner(actx, js) {
			comment += "; " + wedgedComment(c.Name)
		}
		return &module.Outcome{Failed: true, Comment: note(comment)}, nil
	}
	if joinErr != nil {
		jinfo, err := within(actx, func() (*serverInfo, error) { return readServer(js) })
		if err != nil || !jinfo.clustered {
			// Incus 6.0.4 leaves a half-joined member behind after a failed join.
			return &module.Outcome{Failed: true, Changes: map[string]any{"member": change(nil, c.Name)}, Comment: note(fmt.Sprintf(
				"Cluster member %s is listed but its join did not finish (%v): %s",
				c.Name, joinErr, halfJoinedWayOut(c.Name)))}, nil
		}
	}

	changes := map[string]any{"member": change(nil, c.Name), "address": change(nil, memberAddress(mem))}
	comment := fmt.Sprintf("Cluster member %s joined at %s", c.Name, memberAddress(mem))
	if joinErr != nil {
		comment += fmt.Sprintf(" (Incus reported an error, but the member is present: %v)", joinErr)
	}
	if ctx.Err() != nil {
		// Converging settings is a new write: not after the run ended.
		return &module.Outcome{Changes: changes, Comment: note(comment + "; its settings are left for the next run")}, nil
	}
	upd, err := m.updateMember(cs, c.Name, mem, etag, want)
	if err != nil {
		return &module.Outcome{Failed: true, Changes: changes, Comment: note(comment + fmt.Sprintf("; failed to converge its settings: %v", err))}, nil
	}
	for k, v := range upd {
		changes[k] = v
	}
	return &module.Outcome{Changes: changes, Comment: note(comment)}, nil
}

// listedWithin polls until the cluster lists member name, for at most d.
func listedWithin(ctx context.Context, s incus.InstanceServer, name string, d time.Duration) bool {
	for deadline := time.Now().Add(d); ctx.Err() == nil; time.Sleep(200 * time.Millisecond) {
		if mem, _, err := incusconn.ReadMember(s, name); err == nil && mem != nil {
			return true
		}
		if time.Now().After(deadline) {
			break
		}
	}
	return false
}

// runningJoin returns the join still running on the server of roster
// entry name, or nil (also when it cannot be read: this is a diagnosis).
func (m *Module) runningJoin(ctx context.Context, name string) *api.Operation {
	js, err := m.conn(ctx, name)
	if err != nil {
		return nil
	}
	op, err := within(ctx, func() (*api.Operation, error) { return joiningOp(js) })
	if err != nil {
		return nil
	}
	return op
}

// earlierJoinWait bounds how long apply waits for a join an earlier run
// started (joins take 0.4-1.1 s; one that takes longer waits for a member
// that does not answer).
const earlierJoinWait = 10 * time.Second

// awaitEarlierJoin waits for the joiner's join operation op, started by an
// earlier run, and reports how it ended. It returns nil, nil when that join
// failed and the cluster does not list the member: a new join may start.
func awaitEarlierJoin(ctx context.Context, m *Module, c *call, cs, js incus.InstanceServer, op *api.Operation, want *memberWant) (*module.Outcome, error) {
	wctx, cancel := context.WithTimeout(ctx, earlierJoinWait)
	werr := waitOpID(wctx, js, op.ID)
	cancel()
	actx, cancel := afterCtx(ctx)
	defer cancel()
	since := op.CreatedAt.UTC().Format(time.RFC3339)
	if werr != nil && (errors.Is(werr, context.DeadlineExceeded) || errors.Is(werr, context.Canceled)) {
		return &module.Outcome{Failed: true, Comment: fmt.Sprintf(
			"Cluster member %s: a join started earlier (operation %s, since %s) is still running on its server and did not finish within %s; no other join was started. "+
				"A cluster member it waits for may not answer: bring it back and re-run. To abandon that join, restart the daemon of %s; then, if the cluster lists %s, %s",
			c.Name, op.ID, since, earlierJoinWait, c.Name, c.Name, removeWayOut(c.Name))}, nil
	}
	if werr != nil {
		op.Err = fmt.Sprint(werr)
	}
	how := fmt.Sprintf("by a join started earlier, operation %s since %s", op.ID, since)
	out, err := joinedMeanwhile(actx, ctx, m, c, cs, how, want)
	if out != nil && werr != nil {
		return &module.Outcome{Failed: true, Changes: out.Changes, Comment: fmt.Sprintf(
			"Cluster member %s is listed but the join started earlier (operation %s since %s) failed: %v; %s", c.Name, op.ID, since, werr, halfJoinedWayOut(c.Name))}, nil
	}
	return out, err
}

// joinedMeanwhile reports member c.Name as joined (how says by what) when
// the cluster lists it, reading within actx; nil, nil when it does not.
// Settings are converged only while ctx runs.
func joinedMeanwhile(actx, ctx context.Context, m *Module, c *call, cs incus.InstanceServer, how string, want *memberWant) (*module.Outcome, error) {
	m.forget(c.Name)
	view := cs
	if view == nil {
		s, err := m.conn(actx, c.Name)
		if err != nil {
			return nil, fmt.Errorf("failed to reconnect to %s after its join: %w", c.Name, err)
		}
		view = s
	}
	type read struct {
		mem  *api.ClusterMember
		etag string
	}
	got, err := within(actx, func() (read, error) {
		mem, etag, err := incusconn.ReadMember(view, c.Name)
		return read{mem, etag}, err
	})
	if err != nil || got.mem == nil {
		return nil, err
	}
	changes := map[string]any{"member": change(nil, c.Name), "address": change(nil, memberAddress(got.mem))}
	comment := fmt.Sprintf("Cluster member %s joined at %s (%s)", c.Name, memberAddress(got.mem), how)
	if ctx.Err() != nil {
		return &module.Outcome{Changes: changes, Comment: comment + "; its settings are left for the next run"}, nil
	}
	upd, err := m.updateMember(view, c.Name, got.mem, got.etag, want)
	if err != nil {
		return &module.Outcome{Failed: true, Changes: changes, Comment: comment + fmt.Sprintf("; failed to converge its settings: %v", err)}, nil
	}
	for k, v := range upd {
		changes[k] = v
	}
	return &module.Outcome{Changes: changes, Comment: comment}, nil
}

// halfJoinedWayOut is what to do about a member the cluster lists whose
// server did not finish joining.
func halfJoinedWayOut(name string) string {
	return "if a member stopped answering, bring it back and re-run (the join may still finish); otherwise " + removeWayOut(name)
}

// removeWayOut is how to start over with a member whose join failed.
func removeWayOut(name string) string {
	return fmt.Sprintf("remove %s with cluster_member_absent force: true, wipe its server (Incus 6.0.4 does not clean up a failed join) and re-run", name)
}

// join runs the join on the joining server js; cs (nil in token mode)
// supplies the member config questions. It returns the joiner's join
// operation once the joiner accepted the join ("" before).
func join(ctx context.Context, cs, js incus.InstanceServer, c *call, tok *api.ClusterMemberJoinToken, addr string) (string, error) {
	certPEM, clusterAddr, err := clusterCertificate(ctx, tok)
	if err != nil {
		return "", err
	}
	user := c.args.(*presentArgs).memberConfig
	var asked []api.ClusterMemberConfigKey
	if cs != nil {
		cl, _, err := cs.GetCluster()
		if err != nil {
			return "", fmt.Errorf("failed to read the cluster's member config keys: %w", err)
		}
		asked = cl.MemberConfig
	}
	put := api.ClusterPut{
		Cluster: api.Cluster{
			ServerName:   c.Name,
			Enabled:      true,
			MemberConfig: memberConfig(asked, user),
		},
		ClusterAddress:     normAddress(clusterAddr),
		ClusterCertificate: certPEM,
		ServerAddress:      addr,
		ClusterToken:       tok.String(),
	}
	// Last moment to give up without leaving a join behind.
	if err := ctx.Err(); err != nil {
		return "", err
	}
	op, err := js.UpdateCluster(put, "")
	if err != nil {
		return "", fmt.Errorf("failed to join: %w", err)
	}
	id := op.Get().ID
	if err := waitOpID(ctx, js, id); err != nil {
		return id, fmt.Errorf("failed to join: %w", err)
	}
	return id, nil
}

// memberConfig answers the cluster's member config questions: empty
// values (the driver default, as `incus admin init` answers) unless the
// user gave one; user entries the cluster did not ask for are passed on.
func memberConfig(asked, user []api.ClusterMemberConfigKey) []api.ClusterMemberConfigKey {
	key := func(k api.ClusterMemberConfigKey) string { return k.Entity + "\x00" + k.Name + "\x00" + k.Key }
	given := map[string]string{}
	for _, u := range user {
		given[key(u)] = u.Value
	}
	out := make([]api.ClusterMemberConfigKey, 0, len(asked)+len(user))
	seen := map[string]bool{}
	for _, a := range asked {
		k := api.ClusterMemberConfigKey{Entity: a.Entity, Name: a.Name, Key: a.Key, Value: given[key(a)]}
		out = append(out, k)
		seen[key(a)] = true
	}
	for _, u := range user {
		if !seen[key(u)] {
			out = append(out, api.ClusterMemberConfigKey{Entity: u.Entity, Name: u.Name, Key: u.Key, Value: u.Value})
			seen[key(u)] = true
		}
	}
	return out
}

// revokeToken deletes an unused join token (a token operation is readable
// by anyone who can list operations) within ctx. It returns what became
// of the token: "revoked", or "used" when the joiner already presented it
// (a used token is no longer running and cannot be used again).
func revokeToken(ctx context.Context, s incus.InstanceServer, opID string) (string, error) {
	if s == nil || opID == "" {
		return "", nil
	}
	_, err := within(ctx, func() (struct{}, error) { return struct{}{}, s.DeleteOperation(opID) })
	if err == nil {
		return "revoked", nil
	}
	// "Only running operations can be cancelled"; gone (404) once used
	// and cleaned up.
	op, gerr := within(ctx, func() (*api.Operation, error) {
		op, _, err := s.GetOperation(opID)
		return op, err
	})
	if api.StatusErrorCheck(gerr, http.StatusNotFound) || api.StatusErrorCheck(err, http.StatusNotFound) || (gerr == nil && op.StatusCode != api.Running) {
		return "used", nil
	}
	return "", err
}

// joinChanges are the changes a join would make.
func joinChanges(name, addr string, want *memberWant) map[string]any {
	changes := map[string]any{"member": change(nil, name), "address": change(nil, addr)}
	_, wantChanges, _, _ := want.diff(nil, api.ClusterMemberPut{FailureDomain: "default", Groups: []string{"default"}})
	for k, v := range wantChanges {
		changes[k] = v
	}
	return changes
}

// memberWant is the desired state of a member's writable fields; nil or
// unset fields are not managed.
type memberWant struct {
	description   *string
	failureDomain *string
	groups        []string
	hasGroups     bool
	roles         []string // writable roles only
	hasRoles      bool
	config        map[string]*string
}

// automaticRole reports roles Incus assigns itself (database,
// database-leader, database-standby): a PUT changing them is rejected.
func automaticRole(r string) bool { return strings.HasPrefix(r, "database") }

// memberConfigDefaults are member config values equal to "unset".
var memberConfigDefaults = map[string]string{"scheduler.instance": "all"}

func parseWant(args map[string]any) (*memberWant, error) {
	w := &memberWant{}
	if s, ok, err := argString(args, "description"); err != nil {
		return nil, err
	} else if ok {
		w.description = &s
	}
	if s, ok, err := argString(args, "failure_domain"); err != nil {
		return nil, err
	} else if ok {
		if s == "" {
			s = "default"
		}
		w.failureDomain = &s
	}
	var err error
	if w.groups, w.hasGroups, err = argStrings(args, "groups"); err != nil {
		return nil, err
	}
	if w.hasGroups && len(w.groups) == 0 {
		return nil, fmt.Errorf("argument groups: a member must be in at least one cluster group")
	}
	roles, ok, err := argStrings(args, "roles")
	if err != nil {
		return nil, err
	}
	if ok {
		w.hasRoles = true
		w.roles = []string{}
		for _, r := range roles {
			if !automaticRole(r) {
				w.roles = append(w.roles, r)
			}
		}
	}
	if w.config, _, err = argConfig(args, "config"); err != nil {
		return nil, err
	}
	for k, v := range w.config {
		switch {
		case k == "scheduler.instance":
			if v != nil && *v != "" && !slices.Contains([]string{"all", "group", "manual"}, *v) {
				return nil, fmt.Errorf("argument config: scheduler.instance must be all, group or manual, got %q", *v)
			}
		case strings.HasPrefix(k, "user."):
		default:
			return nil, fmt.Errorf("argument config: key %s: member config accepts only scheduler.instance and user.* keys", k)
		}
	}
	return w, nil
}

// diff compares cur with the wanted fields. It returns the PUT body
// (cur with the wanted fields applied; automatic roles kept), the Salt
// changes, and the wanted groups that do not exist yet (s nil: assume
// only "default" exists).
func (w *memberWant) diff(s incus.InstanceServer, cur api.ClusterMemberPut) (api.ClusterMemberPut, map[string]any, []string, error) {
	put := api.ClusterMemberPut{
		Description:   cur.Description,
		FailureDomain: cur.FailureDomain,
		Groups:        append([]string{}, cur.Groups...),
		Roles:         append([]string{}, cur.Roles...),
		Config:        api.ConfigMap{},
	}
	for k, v := range cur.Config {
		put.Config[k] = v
	}
	changes := map[string]any{}
	if w.description != nil && *w.description != cur.Description {
		changes["description"] = change(orNil(cur.Description), orNil(*w.description))
		put.Description = *w.description
	}
	if w.failureDomain != nil && *w.failureDomain != cur.FailureDomain {
		changes["failure_domain"] = change(orNil(cur.FailureDomain), *w.failureDomain)
		put.FailureDomain = *w.failureDomain
	}
	var missing []string
	if w.hasGroups {
		want := uniqueSorted(w.groups)
		have := uniqueSorted(cur.Groups)
		if !slices.Equal(want, have) {
			changes["groups"] = change(have, want)
			put.Groups = want
			existing := []string{"default"}
			if s != nil {
				names, err := s.GetClusterGroupNames()
				if err != nil {
					return put, nil, nil, fmt.Errorf("failed to list cluster groups: %w", err)
				}
				existing = names
			}
			for _, g := range want {
				if !slices.Contains(existing, g) {
					missing = append(missing, g)
				}
			}
		}
	}
	if w.hasRoles {
		var auto, have []string
		for _, r := range cur.Roles {
			if automaticRole(r) {
				auto = append(auto, r)
			} else {
				have = append(have, r)
			}
		}
		want := uniqueSorted(w.roles)
		have = uniqueSorted(have)
		if !slices.Equal(want, have) {
			changes["roles"] = change(have, want)
			put.Roles = append(auto, want...)
		}
	}
	oldCfg, newCfg := map[string]any{}, map[string]any{}
	for _, k := range sortedKeys(w.config) {
		want := ""
		if v := w.config[k]; v != nil {
			want = *v
		}
		have := cur.Config[k]
		if normMemberValue(k, want) == normMemberValue(k, have) {
			continue
		}
		oldCfg[k], newCfg[k] = orNil(have), orNil(want)
		if want == "" {
			delete(put.Config, k)
		} else {
			put.Config[k] = want
		}
	}
	if len(newCfg) > 0 {
		changes["config"] = change(oldCfg, newCfg)
	}
	return put, changes, missing, nil
}

func normMemberValue(key, v string) string {
	if memberConfigDefaults[key] == v {
		return ""
	}
	return v
}

func uniqueSorted(list []string) []string {
	out := sortedCopy(list)
	return slices.Compact(out)
}

// pendingBootstrap finds a cluster bootstrap that test mode predicted
// earlier in the run (any target).
func pendingBootstrap(up []module.Upstream) (module.Upstream, bool) {
	for _, u := range up {
		if u.Module == "incus" && u.Action == module.Bootstrap && u.Status == module.Pending {
			return u, true
		}
	}
	return module.Upstream{}, false
}

// strandedMember is the way out for a server that calls itself a cluster
// member while the cluster reached through via does not list it: it was
// removed while it was offline (Incus could not tell it to leave), or it
// belongs to another cluster. Incus cannot join it as it is.
func strandedMember(entry, member, via string) string {
	return fmt.Sprintf("the server of roster entry %s is already clustered as member %s of a cluster %s does not list: "+
		"it was removed from the cluster while it was offline, or it belongs to another cluster. "+
		"Remove it from that other cluster if it has one; otherwise wipe the server (in a lab: statectl lab reset %s) and re-run, which joins it",
		entry, member, via, entry)
}
