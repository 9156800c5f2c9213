package run

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/statectl/statectl/runner/incusconn"
	"github.com/statectl/statectl/runner/module"
	"github.com/statectl/statectl/runner/modules/cmd"
	"github.com/statectl/statectl/runner/modules/incus"
	"github.com/statectl/statectl/runner/modules/testmod"
	"github.com/statectl/statectl/runner/render"
	"github.com/statectl/statectl/runner/roster"
)

// Default tree locations (the CLI's flag defaults).
const (
	DefaultStates = "./states"
	DefaultPillar = "./pillar"
	DefaultRoster = "./roster.yaml"
)

// Config is what a run needs from the command line and statectl.yaml.
type Config struct {
	States string // state tree (has top.sls)
	Pillar string // pillar tree
	Roster string // roster file
	// PillarNamed is true when the pillar tree was named explicitly (flag
	// or statectl.yaml): then a missing tree is an error, not an empty
	// pillar.
	PillarNamed bool
	// ConfigFile names statectl.yaml in hints.
	ConfigFile string
	// Override is the parsed --pillar-override, merged over every pillar.
	Override map[string]any
	// Offline skips the Incus grains (render, pillar, grains in CI).
	Offline bool
	// Test plans only (apply --test); Exec.Test can ask for it per call.
	Test     bool
	Failhard bool
	// Timeout bounds each state's plan+apply (0: none).
	Timeout time.Duration
	// LockDir and LockTimeout configure the per-target run lock.
	LockDir     string
	LockTimeout time.Duration
	// Now pins the clock (tests); nil means time.Now.
	Now func() time.Time
	// Counter counts every Incus request of the run (nil: none).
	Counter *incusconn.Counter
	// Plugins resolves modules that are not built in (nil: none).
	Plugins module.Resolver
	// Secrets collects the run's secrets; pass one to share it with what
	// prints errors after the session closed (nil: the session makes one).
	Secrets *Secrets
	// Warnings receives non-fatal messages ("no incus grains"); nil
	// discards them.
	Warnings io.Writer
}

// Session is one run's resources. It is not safe for concurrent use.
type Session struct {
	ctx context.Context
	cfg Config

	roster    *roster.Roster
	rosterErr error
	// pool is the run's one set of Incus connections: grains and the incus
	// module reach each daemon through it once.
	pool *incusconn.Pool
	// states renders the state tree for every target of the run, so each
	// template is parsed once per run.
	states *render.Renderer
	reg    *module.Registry
	// upstream is what the targets run so far planned or did: the engine
	// hands it to later module calls (module.Call.Upstream).
	upstream []module.Upstream
}

// Open starts a session. Close releases what it holds.
func Open(ctx context.Context, cfg Config) *Session {
	if cfg.States == "" {
		cfg.States = DefaultStates
	}
	if cfg.Pillar == "" {
		cfg.Pillar = DefaultPillar
	}
	if cfg.Roster == "" {
		cfg.Roster = DefaultRoster
	}
	if cfg.Secrets == nil {
		cfg.Secrets = &Secrets{}
	}
	if cfg.Warnings == nil {
		cfg.Warnings = io.Discard
	}
	s := &Session{ctx: ctx, cfg: cfg}
	r, err := roster.Load(cfg.Roster)
	if err != nil {
		r = &roster.Roster{File: cfg.Roster, Entries: map[string]*roster.Entry{}}
	}
	s.roster, s.rosterErr = r, err
	opts := incusconn.Options{Counter: cfg.Counter}
	if cfg.Secrets != nil {
		opts.Secrets = &cfg.Secrets.Set // OIDC tokens are masked like pillar secrets
	}
	s.pool = incusconn.NewPool(r, opts)
	s.reg = module.NewRegistry(testmod.New(), incus.NewWithPool(r, s.pool), cmd.New())
	if cfg.Plugins != nil {
		s.reg.SetResolver(cfg.Plugins)
	}
	return s
}

// Close releases the loaded modules (connections, plugin processes) and
// the connection pool. Only loaded modules: closing must not start a
// plugin.
func (s *Session) Close() {
	for _, m := range s.reg.Loaded() {
		if c, ok := m.(io.Closer); ok {
			c.Close()
		}
	}
	s.pool.Close()
}

// Context is the session's context (cancelled on Ctrl-C or SIGTERM).
func (s *Session) Context() context.Context { return s.ctx }

// Config returns the session's configuration.
func (s *Session) Config() Config { return s.cfg }

// Registry is the run's module registry.
func (s *Session) Registry() *module.Registry { return s.reg }

// Secrets are the secrets seen so far in this run.
func (s *Session) Secrets() *Secrets { return s.cfg.Secrets }

// Roster is the roster, read once per session (empty when the file is
// missing or bad; the error says which).
func (s *Session) Roster() (*roster.Roster, error) { return s.roster, s.rosterErr }

// Pool is the run's connection pool.
func (s *Session) Pool() *incusconn.Pool { return s.pool }

// StateRoot is the state tree as an absolute path: modules (file.managed
// sources) resolve against it from their own working directory.
func (s *Session) StateRoot() string {
	if abs, err := filepath.Abs(s.cfg.States); err == nil {
		return abs
	}
	return s.cfg.States
}

// checkTree fails when the state or pillar tree is not a directory. A
// missing default ./pillar is an empty pillar, as in Salt, but a tree named
// explicitly that is missing is a typo: rendering the states with an empty
// pillar instead would plan the wrong cluster.
func (s *Session) checkTree(flag, dir string) error {
	st, err := os.Stat(dir)
	if err == nil && st.IsDir() {
		return nil
	}
	def := DefaultStates
	if flag == "pillar" {
		def = DefaultPillar
	}
	if err == nil {
		err = fmt.Errorf("not a directory")
	} else if os.IsNotExist(err) && flag == "pillar" && !s.cfg.PillarNamed {
		return nil
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		err = pe.Err // the path is in the message already
	}
	return stageErr(StageInputs, fmt.Errorf("failed to read the %s tree %s: %w", strings.TrimSuffix(flag, "s"), dir, err),
		fmt.Sprintf("pass --%s DIR (default %s), or set %s: in %s", flag, def, flag, s.cfg.ConfigFile))
}

// pluginError puts a plugin that failed to start (refused, crashed, not a
// plugin) in place of the compile error it causes ("unknown module"),
// since it is the cause.
func (s *Session) pluginError(err error) error {
	errs := s.reg.Errs()
	if len(errs) == 0 {
		return err
	}
	return stageErr(StageCompile, errors.Join(errs...),
		"fix or remove the plugin; 'statectl modules' lists the modules and where plugins are looked for")
}

// PluginErrors is the plugins that failed to load so far, as one error
// (nil: none), for commands that list modules.
func (s *Session) PluginErrors() error { return s.pluginError(nil) }
