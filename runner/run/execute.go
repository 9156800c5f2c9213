package run

import (
	"errors"
	"fmt"
	"time"

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
	s.upstream = append(s.upstream, engine.Upstream(t.Name, run.Results)...)
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
	return s.Execute(t, c, p.Exec), nil
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
