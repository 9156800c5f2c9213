package lab

import (
	"context"
	"fmt"
	"time"
)

// memberTimeout bounds the wait for a restarted or reset member.
const memberTimeout = time.Minute

// Restart stops member name's daemon (SIGTERM, then SIGKILL after a grace
// period, as Down does) and starts it again on the same directory, then
// waits until it is ready: a clustered member is back in its cluster. It
// is the upgrade-and-restart step of a rolling maintenance, rehearsed.
func (l *Lab) Restart(ctx context.Context, name string) (time.Duration, error) {
	start := time.Now()
	m, err := l.stopMember(ctx, name)
	if err != nil {
		return 0, err
	}
	if err := l.startMember(m); err != nil {
		return 0, err
	}
	if err := l.save(); err != nil {
		return 0, err
	}
	if _, err := waitReady(ctx, *m, memberTimeout); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// Reset wipes member name: its daemon is stopped, its directory removed
// and a fresh, unclustered daemon started at the same address and socket,
// trusting the lab client certificate. It is the way back for a member
// removed from its cluster while it was offline, which Incus cannot tell
// to leave: such a server never becomes ready as a cluster member again.
func (l *Lab) Reset(ctx context.Context, name string) error {
	m, err := l.stopMember(ctx, name)
	if err != nil {
		return err
	}
	if err := cleanDir(ctx, m.Dir); err != nil {
		return fmt.Errorf("failed to reset lab member %s: %w", name, err)
	}
	if err := l.startMember(m); err != nil {
		return err
	}
	if err := l.save(); err != nil {
		return err
	}
	return l.configure(ctx, *m, memberTimeout)
}

// stopMember stops name's daemon if it runs and waits until its address
// is free again.
func (l *Lab) stopMember(ctx context.Context, name string) (*Member, error) {
	var m *Member
	for i := range l.Members {
		if l.Members[i].Name == name {
			m = &l.Members[i]
		}
	}
	if m == nil {
		names := make([]string, len(l.Members))
		for i, x := range l.Members {
			names[i] = x.Name
		}
		return nil, fmt.Errorf("failed to find lab member %q: the lab has %v", name, names)
	}
	if daemonAlive(m.PID, m.Dir) {
		if err := stopProcess(ctx, m.PID); err != nil {
			return nil, fmt.Errorf("failed to stop lab member %s: %w", name, err)
		}
	}
	if err := waitAddressFree(ctx, *m, killGrace); err != nil {
		return nil, fmt.Errorf("failed to stop lab member %s: %w", name, err)
	}
	return m, nil
}
