package incus

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/lxc/incus/v6/shared/api"
)

// A member's Status comes from heartbeats: a daemon that stops answering
// (frozen, overloaded, partitioned) stays "Online" until
// cluster.offline_threshold (20 s by default) has passed. Decisions that
// depend on a majority answering (removing a member, joining one) probe
// each member listed Online themselves instead of trusting Status.

// probeTimeout bounds one member's probe. A live daemon completes a TLS
// handshake in milliseconds; a SIGSTOPped one accepts the TCP connection
// (the kernel does) and never answers.
const probeTimeout = 2 * time.Second

// liveness is what the cluster and the probes say about its members.
type liveness struct {
	members []api.ClusterMember
	// down maps a member that is not answering to why (its Status
	// message, or the failed probe).
	down map[string]string
	// stalled are the members listed Online whose probe timed out: they
	// accept connections and hold requests (frozen, overloaded).
	stalled []string
	// blind is set when the member we talk to failed its own probe:
	// cluster addresses are not reachable from this runner, so only
	// Status counts.
	blind bool
}

// probeMembers probes each member listed Online, except skip (a member
// about to be removed is not asked), in parallel. self is the member
// name of the daemon the caller talks to: it answers, so when its probe
// fails the probes prove nothing (see liveness.blind). It sends no API
// request: a probe is a TLS handshake with the member's cluster address.
func probeMembers(ctx context.Context, members []api.ClusterMember, skip, self string) *liveness {
	l := &liveness{members: members, down: map[string]string{}}
	probed := map[string]string{}
	frozen := map[string]bool{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, mem := range members {
		if mem.ServerName == skip && mem.ServerName != self {
			continue
		}
		// An evacuated member still runs and answers: probe it too.
		if mem.Status != "Online" && mem.Status != "Evacuated" {
			l.down[mem.ServerName] = fmt.Sprintf("%s (%s)", strings.ToLower(mem.Status), mem.Message)
			continue
		}
		wg.Add(1)
		go func(name, addr string) {
			defer wg.Done()
			pctx, cancel := context.WithTimeout(ctx, probeTimeout)
			defer cancel()
			if _, err := peerCertificate(pctx, addr); err != nil {
				mu.Lock()
				// A refused connection is a dead daemon, which fails
				// requests fast; a timeout is one that holds them.
				var nerr net.Error
				frozen[name] = errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &nerr) && nerr.Timeout())
				probed[name] = fmt.Sprintf("listed Online but did not answer at %s within %s (stopped, frozen or unreachable from here): %v", addr, probeTimeout, err)
				mu.Unlock()
			}
		}(mem.ServerName, memberAddress(&mem))
	}
	wg.Wait()
	if _, failed := probed[self]; failed && self != "" {
		l.blind = true
		return l
	}
	for name, why := range probed {
		if name == skip {
			continue
		}
		l.down[name] = why
		if frozen[name] {
			l.stalled = append(l.stalled, name)
		}
	}
	sort.Strings(l.stalled)
	return l
}

// isVoter reports a raft voter: Incus gives voters the "database" role.
func isVoter(mem api.ClusterMember) bool { return slices.Contains(mem.Roles, "database") }

// voters returns the names of the voting members except skip, or of all
// members except skip when none has a database role (an API that does not
// report roles).
func (l *liveness) voters(skip string) []string {
	var out, all []string
	for _, mem := range l.members {
		if mem.ServerName == skip {
			continue
		}
		all = append(all, mem.ServerName)
		if isVoter(mem) {
			out = append(out, mem.ServerName)
		}
	}
	if len(out) == 0 {
		out = all
	}
	sort.Strings(out)
	return out
}

// answering splits names into those answering and those down.
func (l *liveness) answering(names []string) (up, down []string) {
	for _, n := range names {
		if _, ok := l.down[n]; ok {
			down = append(down, n)
		} else {
			up = append(up, n)
		}
	}
	return up, down
}

// describeDown renders the down members of names with their reasons, in
// name order.
func (l *liveness) describeDown(names []string) string {
	var parts []string
	for _, n := range sortedCopy(names) {
		if why, ok := l.down[n]; ok {
			parts = append(parts, n+": "+why)
		}
	}
	return strings.Join(parts, "; ")
}
