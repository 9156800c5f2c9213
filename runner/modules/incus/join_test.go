package incus_test

import (
	"context"
	"strings"
	"testing"

	incusclient "github.com/lxc/incus/v6/client"
	"github.com/lxc/incus/v6/shared/api"

	"github.com/statectl/statectl/runner/roster"
)

// tokens lists the pending join-token operations on s.
func tokens(t *testing.T, s incusclient.InstanceServer) []string {
	t.Helper()
	ops, err := s.GetOperations()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, op := range ops {
		if op.Class == api.OperationClassToken && op.StatusCode == api.Running {
			out = append(out, op.ID)
		}
	}
	return out
}

func TestJoinFailures(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 3)
	e.bootstrap()
	c1 := e.client("node1")
	// ghost is a roster entry whose daemon does not exist.
	e.roster.Entries["ghost"] = &roster.Entry{Name: "ghost", Socket: e.lab.Dir + "/ghost/unix.socket"}
	m := e.newModule()

	// Unreachable cluster: a clear error, no token minted, nothing written.
	unreachable := mkcall("node2", "cluster_member_present", "node2", map[string]any{
		"address": e.addr("node2"), "cluster": "ghost",
	})
	r := e.run(m, unreachable)
	if r.planErr == nil || !strings.Contains(r.planErr.Error(), "no clustered member reachable") || !strings.Contains(r.planErr.Error(), "ghost") {
		t.Fatalf("unreachable cluster: want a clear error, got %v %+v", r.planErr, r.plan)
	}
	if tok := tokens(t, c1); len(tok) != 0 {
		t.Fatalf("tokens left behind: %v", tok)
	}

	// A join that fails after the token was minted revokes the token.
	clash := mkcall("node1", "cluster_member_present", "node3", map[string]any{
		"address": e.addr("node1"), // node1's address: the join must fail
	})
	r = e.run(m, clash)
	if r.planErr != nil || r.out == nil {
		t.Fatalf("clash: %v %+v", r.planErr, r.plan)
	}
	t.Logf("clash: %+v", r.out)
	if !r.out.Failed || !strings.Contains(r.out.Comment, "join token revoked") {
		t.Fatalf("clash: want a failed join with the token revoked, got %v %+v", r.applErr, r.out)
	}
	if tok := tokens(t, c1); len(tok) != 0 {
		t.Fatalf("tokens left behind: %v", tok)
	}
	if _, ok := members(t, c1)["node3"]; ok {
		t.Fatalf("node3 listed after a failed join")
	}

	// A pre-issued token joins when the runner cannot reach the cluster;
	// the token never shows.
	op, err := c1.CreateClusterMember(api.ClusterMembersPost{ServerName: "node2"})
	if err != nil {
		t.Fatal(err)
	}
	opAPI := op.Get()
	tok, err := opAPI.ToClusterJoinToken()
	if err != nil {
		t.Fatal(err)
	}
	withToken := mkcall("node2", "cluster_member_present", "node2", map[string]any{
		"address": e.addr("node2"), "cluster": "ghost", "cluster_token": tok.String(), "description": "joined by token",
	})
	// Validate checks the token offline: it must be for this member.
	wrong := mkcall("node3", "cluster_member_present", "node3", map[string]any{"address": e.addr("node3"), "cluster_token": tok.String()})
	if err := m.Validate(wrong); err == nil || !strings.Contains(err.Error(), "issued for member node2") || strings.Contains(err.Error(), tok.Secret) {
		t.Fatalf("token for another member: %v", err)
	}
	r = e.mustApply(m, withToken)
	for _, s := range []string{tok.String(), tok.Secret} {
		if strings.Contains(r.text(), s) {
			t.Fatalf("token in output: %s", r.text())
		}
	}
	if got := members(t, c1)["node2"]; got.Description != "joined by token" {
		t.Fatalf("node2 after token join: %+v", got)
	}
	// Re-planned through the joiner itself (the cluster is still "unreachable").
	e.mustConverged(e.newModule(), withToken)
	_ = context.Background
}
