package run

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	incus "github.com/lxc/incus/v6/client"

	"github.com/statectl/statectl/runner/clusterlock"
	"github.com/statectl/statectl/runner/engine"
	"github.com/statectl/statectl/runner/lock"
	"github.com/statectl/statectl/runner/module"
	"github.com/statectl/statectl/runner/state"
)

// PlanCheck is the engine's plan hook (see engine.Options.PlanCheck).
type PlanCheck = func(s *state.State, p *module.Plan, prior []*state.Result) (*module.Plan, error)

// Exec adapts one execution of a target's compiled states.
type Exec struct {
	// Test plans only, whatever the session's Config.Test says.
	Test bool
	// Check, if set, sees every plan before the engine acts on it (saved
	// plans, the watch loop's drift count), masked as it would be printed.
	Check PlanCheck
	// Probe marks a plan-only look taken to decide whether a real run is
	// due (watch, before taking the cluster lock): later targets' states
	// do not see its predictions as this run's (Call.Upstream).
	Probe bool
}

// Execute runs c for t with the engine and returns the run with the
// session's secrets masked. The caller holds t's lock (see Lock).
func (s *Session) Execute(t *Target, c *state.Compiled, x Exec) *state.Run {
	run := engine.Execute(s.ctx, c, s.reg, engine.Options{
		Test:           x.Test || s.cfg.Test,
		Failhard:       s.cfg.Failhard,
		Target:         s.ModuleTarget(t),
		DefaultTimeout: s.cfg.Timeout,
		Now:            s.cfg.Now,
		PlanCheck:      s.Secrets().hook(x.Check),
		Upstream:       s.upstream,
		Secrets:        &s.Secrets().Set, // errors printed later mask Secret arguments too
	})
	// Later targets' states see what this one did (a settings plan for
	// node2 reads the join node2's member state planned).
	if !x.Probe {
		s.upstream = append(s.upstream, engine.Upstream(t.Name, run.Results)...)
	}
	s.Secrets().Results(run.Results)
	return run
}

// Pass is the options of one target's pass (see Session.Pass).
type Pass struct {
	Exec
	// Function names the run in the lock (state.apply, state.watch ...).
	Function string
	// Preflight, if set, runs after compiling and before locking; its
	// error ends the pass (watch: is the target's daemon reachable?).
	Preflight func(t *Target) error
	// ClusterLock, if set, is taken on the target's cluster after the
	// target's run lock and held while the states run, waiting up to
	// ClusterLockWait (see package clusterlock). Test runs and targets
	// that are not cluster members take none.
	ClusterLock     *clusterlock.Locker
	ClusterLockWait time.Duration
}

// Pass is one target's run, shared by apply and every watch pass: compile
// (offline), take the target's run lock, then plan and apply (or only plan
// in test mode).
func (s *Session) Pass(t *Target, sls []string, p Pass) (*state.Run, error) {
	c, err := s.Compile(t, sls)
	if err != nil {
		return nil, err
	}
	if p.Preflight != nil {
		if err := p.Preflight(t); err != nil {
			return nil, err
		}
	}
	l, err := s.Lock(t, p.Function)
	if err != nil {
		return nil, err
	}
	defer l.Release()
	if p.ClusterLock != nil && !p.Test && !s.cfg.Test {
		release, err := s.clusterLock(t, p)
		if err != nil {
			return nil, err
		}
		defer release()
	}
	return s.Execute(t, c, p.Exec), nil
}

// clusterPeers connects to the roster's other targets that are members of
// the cluster with certificate fingerprint fp (sorted by name): the cluster
// lock's heartbeat moves to one of them when the target's own member stops
// answering (it is being upgraded). Only called then.
func (s *Session) clusterPeers(self, fp string) []incus.InstanceServer {
	if s.roster == nil {
		return nil
	}
	cluster := ""
	if e := s.roster.Entries[self]; e != nil {
		cluster = e.Cluster
	}
	var out []incus.InstanceServer
	for _, name := range slices.Sorted(maps.Keys(s.roster.Entries)) {
		// A fleet roster names each entry's cluster: skip the others
		// rather than connect to them.
		if name == self || (cluster != "" && s.roster.Entries[name].Cluster != cluster) {
			continue
		}
		ctx, cancel := context.WithTimeout(s.ctx, peerConnectTimeout)
		c, err := s.pool.Get(ctx, name)
		cancel()
		if err == nil && c.Info != nil && c.Info.Environment.ServerClustered && c.Info.Environment.CertificateFingerprint == fp {
			out = append(out, c.Server)
		}
	}
	return out
}

// peerConnectTimeout bounds each connection clusterPeers tries.
const peerConnectTimeout = 5 * time.Second

// clusterLock takes the cluster lock for t's pass, if t is a member of a
// cluster, and drops the answers the session remembered: the previous
// holder may have changed what they say.
func (s *Session) clusterLock(t *Target, p Pass) (release func(), err error) {
	none := func() {}
	if !t.HasDaemon() {
		return none, nil
	}
	conn, err := s.pool.Get(s.ctx, t.Name)
	if err != nil {
		return nil, &Error{Stage: StageConnect, Err: fmt.Errorf("cluster unreachable: %w", err)}
	}
	// A server that is not (yet) clustered has its own database, which a
	// join replaces: a lock there would coordinate nothing.
	if conn.Info == nil || !conn.Info.Environment.ServerClustered {
		return none, nil
	}
	k, err := p.ClusterLock.Acquire(s.ctx, conn.Server, clusterlock.Holder{Function: p.Function, Target: t.Name}, p.ClusterLockWait,
		func() []incus.InstanceServer {
			return s.clusterPeers(t.Name, conn.Info.Environment.CertificateFingerprint)
		})
	var busy *clusterlock.BusyError
	if errors.As(err, &busy) {
		return nil, stageErr(StageClusterLock, err, busy.Hint())
	}
	if err != nil {
		return nil, stageErr(StageClusterLock, err, "pass --cluster-lock=false to run without it (then concurrent correctors may each write)")
	}
	s.pool.Refresh()
	return func() {
		if err := k.Release(); err != nil {
			fmt.Fprintf(s.cfg.Warnings, "statectl: warning: %s: %s\n", t.Name, s.Secrets().String(err.Error()))
		}
	}, nil
}

// Lock takes t's run lock, waiting up to Config.LockTimeout. A lock held
// by another run is a StageLock error (worth retrying).
func (s *Session) Lock(t *Target, function string) (*lock.Lock, error) {
	dir := s.cfg.LockDir
	if dir == "" {
		dir = lock.DefaultDir()
	}
	h := lock.Holder{Target: t.Name, Function: function, Started: time.Now()}
	if t.Entry != nil {
		h.Endpoint = t.Entry.Socket
		if h.Endpoint == "" {
			h.Endpoint = t.Entry.URL
		}
	}
	l, err := lock.Acquire(s.ctx, dir, h, s.cfg.LockTimeout)
	var busy *lock.BusyError
	if errors.As(err, &busy) {
		return nil, stageErr(StageLock, err,
			fmt.Sprintf("wait for it to finish, or pass --lock-timeout 5m to wait (lock file %s)", lock.Path(dir, h.Target, h.Endpoint)))
	}
	if err != nil {
		return nil, &Error{Stage: StageInputs, Err: err, Hint: "pass --lock-dir DIR to put run locks elsewhere"}
	}
	return l, nil
}
