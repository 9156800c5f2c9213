package incus

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"time"

	incus "github.com/lxc/incus/v6/client"
	"github.com/lxc/incus/v6/shared/api"
)

// A join mints a token that anyone who can list operations can read and
// that stays valid for cluster.join_token_expiry (3 h by default). Every
// way the call can end while it still runs code (an error, a state
// timeout, an interrupt of the run) must revoke it, and must find out what
// really happened to the member before reporting. The call's context is
// over by then, so that work runs on a context of its own (afterCtx),
// bounded by cleanupTimeout; the engine waits a little longer than that
// for an apply that outlives its context (engine.applyGrace), so the
// process does not exit under the revoke.

// cleanupTimeout bounds everything a join does after its context ended:
// waiting for a join already sent, re-reading membership, revoking.
const cleanupTimeout = 5 * time.Second

// sentJoinWait is how long a join that the joiner already accepted is
// given to finish once the call's context ended (joins take 0.4-1.1 s).
const sentJoinWait = 2 * time.Second

// afterCtx is a context for the work after ctx ended (or failed): not
// cancelled with ctx, with its own deadline.
func afterCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
}

// within runs fn and returns its result, or ctx's error when ctx ends
// first. The client library's requests take no context (the pool's
// request timeout ends them), so an abandoned fn finishes in the
// background; nothing waits for it.
func within[T any](ctx context.Context, fn func() (T, error)) (T, error) {
	type ret struct {
		v   T
		err error
	}
	ch := make(chan ret, 1)
	go func() {
		v, err := fn()
		ch <- ret{v, err}
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		return zero, fmt.Errorf("no answer in time: %w", ctx.Err())
	}
}

// cutShort names why ctx ended, or "" while it runs.
func cutShort(ctx context.Context) string {
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return "the state's time limit ran out"
	case ctx.Err() != nil:
		return "the run was interrupted"
	}
	return ""
}

// tokenOps lists the running join-token operations for member name.
func tokenOps(s incus.InstanceServer, name string) ([]string, error) {
	ops, err := s.GetOperations()
	if err != nil {
		return nil, fmt.Errorf("failed to list operations: %w", err)
	}
	var ids []string
	for _, op := range ops {
		if op.Class != api.OperationClassToken || op.StatusCode != api.Running {
			continue
		}
		if n, _ := op.Metadata["serverName"].(string); n == name {
			ids = append(ids, op.ID)
		}
	}
	sort.Strings(ids)
	return ids, nil
}

// revokeStaleTokens revokes the join tokens for name that an earlier run
// left behind (one killed between minting and sending, which no code of
// its own could clean up). It returns how many it revoked.
func revokeStaleTokens(ctx context.Context, s incus.InstanceServer, name string) (int, error) {
	ids, err := within(ctx, func() ([]string, error) { return tokenOps(s, name) })
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		_, err := within(ctx, func() (struct{}, error) { return struct{}{}, s.DeleteOperation(id) })
		if err != nil && !api.StatusErrorCheck(err, http.StatusNotFound) {
			return n, fmt.Errorf("failed to revoke join token operation %s left by an earlier run: %w", id, err)
		}
		n++
	}
	return n, nil
}

// joiningOp returns the joiner's running "Joining cluster" task, if any:
// a join the daemon accepted and has not finished (its cluster stopped
// answering mid-join). Starting another would only queue behind it.
func joiningOp(s incus.InstanceServer) (*api.Operation, error) {
	ops, err := s.GetOperations()
	if err != nil {
		return nil, fmt.Errorf("failed to list operations: %w", err)
	}
	for i := range ops {
		op := &ops[i]
		if op.Class == api.OperationClassTask && op.StatusCode == api.Running && op.Description == "Joining cluster" {
			return op, nil
		}
	}
	return nil, nil
}
