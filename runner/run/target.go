package run

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/statectl/statectl/runner/compile"
	"github.com/statectl/statectl/runner/grains"
	"github.com/statectl/statectl/runner/incusconn"
	"github.com/statectl/statectl/runner/module"
	"github.com/statectl/statectl/runner/pillar"
	"github.com/statectl/statectl/runner/render"
	"github.com/statectl/statectl/runner/roster"
	"github.com/statectl/statectl/runner/state"
	"github.com/statectl/statectl/runner/target"
)

// Target is one selected target and its stage values, each computed once
// per session and never changed after.
type Target struct {
	Name string
	// Entry is the roster entry; nil for an incus CLI remote.
	Entry *roster.Entry

	grains      map[string]any
	grainsErr   error
	pillar      map[string]any
	pillarOrder *render.KeyOrder // the pillar's key order, for templates
	pillarErr   error
	pillarDone  bool
	// compiled caches Compile per SLS list (key: names joined by ",").
	compiled map[string]compiled
}

type compiled struct {
	c   *state.Compiled
	err error
}

// HasDaemon reports whether t has an Incus daemon: an incus CLI remote, or
// a roster entry with a socket or URL.
func (t *Target) HasDaemon() bool { return t.Entry == nil || t.Entry.HasEndpoint() }

// grainsOrder is the key order of the roster grains (nil without them).
func (t *Target) grainsOrder() *render.KeyOrder {
	if t.Entry == nil {
		return nil
	}
	return t.Entry.GrainsOrder
}

// Select resolves a target expression against the roster: a roster name, a
// glob or a compound expression. "local" is this machine even without a
// roster; an incus CLI remote is a target too.
func (s *Session) Select(expr string) ([]*Target, error) {
	r, err := s.Roster()
	missing := errors.Is(err, os.ErrNotExist)
	if err != nil && !missing {
		return nil, stageErr(StageTargets, err, "fix the roster file, or point --roster at another one")
	}
	if expr == grains.Local {
		if _, ok := r.Get(grains.Local); !ok {
			return []*Target{{Name: grains.Local, Entry: &roster.Entry{Name: grains.Local}}}, nil
		}
	}
	if _, ok := r.Get(expr); !ok && isRemote(expr) {
		// The incus module connects to a remote through the CLI's config.
		return []*Target{{Name: expr}}, nil
	}
	if missing {
		return nil, stageErr(StageTargets, err,
			fmt.Sprintf("create %s (or pass --roster FILE); 'statectl lab up' writes one for a local lab; 'local' targets this machine", s.cfg.Roster))
	}
	byName := map[string]*Target{}
	get := func(name string) *Target {
		t, ok := byName[name]
		if !ok {
			e, _ := r.Get(name)
			t = &Target{Name: name, Entry: e}
			byName[name] = t
		}
		return t
	}
	// Rendering every target's pillar is only worth it for I@/J@ matches.
	needsPillar := strings.Contains(expr, "I@") || strings.Contains(expr, "J@")
	names, err := target.MatchTargets(expr, r.Names(), func(name string) *target.Subject {
		// Matching on grains or pillar needs them; a failure here
		// resurfaces, with its own exit code, when the target runs.
		t := get(name)
		g, err := s.Grains(t)
		if err != nil {
			return nil
		}
		sub := &target.Subject{ID: name, Grains: g}
		if needsPillar {
			sub.Pillar, _ = s.Pillar(t)
		}
		return sub
	})
	if err != nil {
		hint := "run 'statectl grains TARGET' to see what a target matches on"
		if errors.Is(err, target.ErrNoMatch) {
			hint = fmt.Sprintf("the roster %s has: %s", r.File, strings.Join(r.Names(), ", "))
			if len(r.Names()) == 0 {
				hint = fmt.Sprintf("the roster %s is empty", r.File)
			} else if strings.Contains(expr, "@") {
				hint += "; 'statectl grains TARGET' shows the grains G@ matches on"
			}
		}
		return nil, stageErr(StageTargets, err, hint)
	}
	out := make([]*Target, len(names))
	for i, name := range names {
		out[i] = get(name)
	}
	return out, nil
}

// isRemote reports whether name is one of the incus CLI's remotes.
func isRemote(name string) bool {
	remotes, err := incusconn.Remotes(incusconn.DefaultConfigDir())
	if err != nil {
		return false
	}
	for _, r := range remotes {
		if r == name {
			return true
		}
	}
	return false
}

// Grains gathers t's grains once.
func (s *Session) Grains(t *Target) (map[string]any, error) {
	if t.grains == nil && t.grainsErr == nil {
		var sources []grains.Source
		if !s.cfg.Offline {
			sources = []grains.Source{s.incusGrains}
		}
		g, err := grains.Gather(s.ctx, t.Name, t.Entry, sources...)
		if err != nil {
			t.grainsErr = stageErr(StageGrains, fmt.Errorf("failed to gather grains of %s: %w", t.Name, err), "")
		}
		t.grains = g
	}
	return t.grains, t.grainsErr
}

// grainsTimeout bounds reaching a target's incusd for its grains: grains
// must not stall offline work (render in CI) on an unreachable daemon.
const grainsTimeout = 2 * time.Second

// incusGrains is the grain layer of the target's Incus server (under
// `incus`), when its daemon answers. It is best effort: render, pillar and
// grains work offline. The connection is the run's: the module plans over
// it later.
func (s *Session) incusGrains(ctx context.Context, name string, entry *roster.Entry) (map[string]any, error) {
	// No entry: an incus CLI remote. An entry without an endpoint (e.g.
	// local) has no daemon to ask.
	if entry != nil && !entry.HasEndpoint() {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, grainsTimeout)
	defer cancel()
	c, err := s.pool.Get(ctx, name)
	if err == nil {
		var g map[string]any
		if g, err = incusconn.ServerGrains(ctx, c); err == nil {
			return map[string]any{"incus": g}, nil
		}
	}
	fmt.Fprintf(s.cfg.Warnings, "statectl: warning: %s: no incus grains: %s\n", name, s.Secrets().String(err.Error()))
	return nil, nil
}

// Pillar renders t's pillar once.
func (s *Session) Pillar(t *Target) (map[string]any, error) {
	if t.pillarDone {
		return t.pillar, t.pillarErr
	}
	t.pillarDone = true
	g, err := s.Grains(t)
	if err != nil {
		t.pillarErr = err
		return nil, err
	}
	if err := s.checkTree("pillar", s.cfg.Pillar); err != nil {
		t.pillarErr = err
		return nil, err
	}
	p, order, err := pillar.CompileOrdered(s.cfg.Pillar, t.Name, g, s.cfg.Override, t.grainsOrder())
	if err != nil {
		t.pillarErr = stageErr(StagePillar, err,
			fmt.Sprintf("run 'statectl pillar %s' after fixing the pillar tree %s", t.Name, s.cfg.Pillar))
		return nil, t.pillarErr
	}
	t.pillar, t.pillarOrder = p, order
	s.Secrets().AddPillar(p)
	return p, nil
}

// Compile renders and compiles the states for t: the named SLS, or what
// top.sls assigns (highstate) when none are named.
func (s *Session) Compile(t *Target, sls []string) (*state.Compiled, error) {
	key := strings.Join(sls, ",")
	if got, ok := t.compiled[key]; ok {
		return got.c, got.err
	}
	c, err := s.compile(t, sls)
	if t.compiled == nil {
		t.compiled = map[string]compiled{}
	}
	t.compiled[key] = compiled{c, err}
	return c, err
}

func (s *Session) compile(t *Target, sls []string) (*state.Compiled, error) {
	p, err := s.Pillar(t)
	if err != nil {
		return nil, err
	}
	if err := s.checkTree("states", s.cfg.States); err != nil {
		return nil, err
	}
	if s.states == nil {
		s.states = render.New(s.cfg.States)
	}
	opts := compile.Options{
		Root:        s.cfg.States,
		Target:      &target.Subject{ID: t.Name, Grains: t.grains, Pillar: p},
		Registry:    s.reg,
		Renderer:    s.states,
		GrainsOrder: t.grainsOrder(),
		PillarOrder: t.pillarOrder,
	}
	var c *state.Compiled
	if len(sls) == 0 {
		c, err = compile.Highstate(opts)
	} else {
		c, err = compile.SLS(opts, sls...)
	}
	if err != nil {
		return nil, s.pluginError(compileError(err))
	}
	if len(sls) > 0 && len(c.States) == 0 {
		// Not an error (a target may have nothing to do), but never silent:
		// a typo in the pillar looks exactly like this.
		fmt.Fprintf(s.cfg.Warnings, "statectl: warning: %s: %s rendered no states for this target; 'statectl pillar %s' shows the pillar it rendered with\n",
			t.Name, strings.Join(sls, ", "), t.Name)
	}
	if len(sls) == 0 && len(c.States) == 0 {
		return nil, stageErr(StageCompile, fmt.Errorf("no states in %s/top.sls match %s", s.cfg.States, t.Name),
			fmt.Sprintf("run 'statectl grains %s' to see what top.sls can match on, or name the SLS: statectl apply %s SLS", t.Name, t.Name))
	}
	return c, nil
}

// compileError moves the hint of a single compile error to the CLI's
// "statectl: hint:" line; several errors keep their hints inline, next to
// the error each belongs to.
func compileError(err error) error {
	var one *compile.Error
	var many compile.Errors
	switch {
	case errors.As(err, &many) && len(many) == 1:
		one = many[0]
	case errors.As(err, &many):
		return stageErr(StageCompile, err, "")
	case errors.As(err, &one):
	default:
		return stageErr(StageCompile, err, "")
	}
	bare := *one
	bare.Hint = ""
	return stageErr(StageCompile, &bare, one.Hint)
}

// ModuleTarget is what every module call of t's run knows about t.
func (s *Session) ModuleTarget(t *Target) *module.Target {
	mt := &module.Target{Name: t.Name, Grains: t.grains, Pillar: t.pillar, StateRoot: s.StateRoot()}
	if t.Entry != nil {
		mt.Roster = t.Entry.Connection()
	}
	return mt
}

// Order returns targets with those that run a function marked First (a
// cluster's bootstrap) ahead of the others; the order is otherwise kept.
// It compiles each target (once: Compile caches); a target that fails to
// compile keeps its place and reports its error when it runs.
func (s *Session) Order(targets []*Target, sls []string) []*Target {
	var first, rest []*Target
	for _, t := range targets {
		if s.runsFirst(t, sls) {
			first = append(first, t)
		} else {
			rest = append(rest, t)
		}
	}
	return append(first, rest...)
}

func (s *Session) runsFirst(t *Target, sls []string) bool {
	c, err := s.Compile(t, sls)
	if err != nil {
		return false
	}
	for _, st := range c.States {
		if _, fn, ok := s.reg.Func(st.Module, st.Function); ok && fn.First {
			return true
		}
	}
	return false
}
