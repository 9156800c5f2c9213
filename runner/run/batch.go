package run

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/lxc/incus/v6/shared/api"
)

// ParseBatch reads a --batch value, N or N% (Salt's -b), into a batch size
// for n targets. A percentage rounds up, so every batch holds a target.
func ParseBatch(v string, n int) (int, error) {
	pct := strings.HasSuffix(v, "%")
	num, err := strconv.Atoi(strings.TrimSuffix(v, "%"))
	if err != nil {
		return 0, fmt.Errorf("failed to parse --batch %q: want a count N or a percentage N%%", v)
	}
	if num < 1 {
		return 0, fmt.Errorf("failed to parse --batch %q: the batch size must be at least 1", v)
	}
	if !pct {
		return num, nil
	}
	if num > 100 {
		return 0, fmt.Errorf("failed to parse --batch %q: a percentage must be 1%% to 100%%", v)
	}
	size := (n*num + 99) / 100
	if size < 1 {
		size = 1
	}
	return size, nil
}

// Batches splits targets, in order, into batches of size.
func Batches(targets []*Target, size int) [][]*Target {
	var out [][]*Target
	for len(targets) > 0 {
		k := min(size, len(targets))
		out = append(out, targets[:k])
		targets = targets[k:]
	}
	return out
}

// GateReason is why the cluster is not healthy enough for the next batch,
// or "" when it is: every member Online, none evacuating or restoring or
// Blocked (Incus blocks upgraded members until the last one is upgraded),
// and the database has min(3, members) voters.
func GateReason(members []api.ClusterMember) string {
	voters := 0
	var reasons []string
	for _, m := range members {
		for _, r := range m.Roles {
			if r == "database" || r == "database-leader" {
				voters++
				break
			}
		}
		msg := strings.ToLower(m.Message)
		switch {
		case m.Status == "Blocked":
			reasons = append(reasons, fmt.Sprintf("%s is Blocked: waiting for the other members to be upgraded (%s)", m.ServerName, m.Message))
		case m.Status == "Evacuating" || m.Status == "Restoring":
			reasons = append(reasons, fmt.Sprintf("%s is %s", m.ServerName, m.Status))
		case m.Status != "Online":
			reasons = append(reasons, fmt.Sprintf("%s is %s: %s", m.ServerName, m.Status, m.Message))
		case strings.Contains(msg, "evacuating") || strings.Contains(msg, "restoring"):
			reasons = append(reasons, fmt.Sprintf("%s: %s", m.ServerName, m.Message))
		}
	}
	if want := min(3, len(members)); voters < want {
		reasons = append(reasons, fmt.Sprintf("the database has %d of %d voters", voters, want))
	}
	return strings.Join(reasons, "; ")
}

// Gate waits, at most timeout, until GateReason is "" as read through one of
// names (the run's targets, via the session's pool). It returns how long it
// waited; on timeout the error says the last reason.
func (s *Session) Gate(ctx context.Context, names []string, timeout time.Duration) (time.Duration, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	reason := "no member answered"
	for {
		if r, ok := s.gateOnce(ctx, names); ok {
			if r == "" {
				return time.Since(start), nil
			}
			reason = r
		}
		select {
		case <-ctx.Done():
			return time.Since(start), fmt.Errorf("failed health gate after %s: %s", time.Since(start).Round(time.Second), reason)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// gateOnce reads the members through the first of names that answers. A
// member restarted since its connection was opened gets a new one.
func (s *Session) gateOnce(ctx context.Context, names []string) (string, bool) {
	for _, name := range names {
		c, err := s.pool.Get(ctx, name)
		if err != nil {
			continue
		}
		members, err := c.Server.GetClusterMembers()
		if err != nil {
			s.pool.Forget(name)
			continue
		}
		return GateReason(members), true
	}
	return "", false
}

// GateNames are the targets the health gate can read the cluster through:
// those with an Incus daemon (an incus CLI remote, or a roster entry with
// a socket or URL). None: the targets are not Incus members, no gate.
func GateNames(targets []*Target) []string {
	var names []string
	for _, t := range targets {
		if t.HasDaemon() {
			names = append(names, t.Name)
		}
	}
	return names
}
