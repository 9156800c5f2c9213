package cli

import (
	"errors"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/statectl/statectl/runner/grains"
	"github.com/statectl/statectl/runner/report"
	"github.com/statectl/statectl/runner/run"
)

// open starts a run session from the flags: every command that renders,
// plans or applies goes through one (see package run). The caller closes
// it.
func (a *app) open() (*run.Session, error) {
	override, err := a.override()
	if err != nil {
		return nil, err
	}
	states, pillar, err := a.trees()
	if err != nil {
		return nil, err
	}
	return run.Open(a.ctx, run.Config{
		States:      states,
		Pillar:      pillar,
		Roster:      a.opts.roster,
		PillarNamed: a.flags.Changed("pillar"),
		ConfigFile:  a.opts.config,
		Override:    override,
		Offline:     a.opts.offline,
		Test:        a.opts.test,
		Failhard:    a.opts.failhard,
		Timeout:     a.opts.timeout,
		LockDir:     a.opts.lockDir,
		LockTimeout: a.opts.lockTimeout,
		Now:         a.now,
		Counter:     a.counter,
		Plugins:     a.pluginHost(),
		Secrets:     &a.secrets,
		Warnings:    a.stderr,
	}), nil
}

// override parses --pillar-override: a JSON object (YAML flow syntax is
// accepted too, as Salt parses CLI pillar as YAML).
func (a *app) override() (map[string]any, error) {
	if strings.TrimSpace(a.opts.pillarOverride) == "" {
		return nil, nil
	}
	var v any
	err := yaml.Unmarshal([]byte(a.opts.pillarOverride), &v)
	m, ok := grains.Plain(v).(map[string]any)
	if err != nil || !ok {
		msg := "not an object"
		if err != nil {
			msg = strings.TrimPrefix(err.Error(), "yaml: ")
		}
		return nil, usageError(`pass an object, e.g. --pillar-override '{"incus": {"cluster": {"name": "lab"}}}'`,
			"invalid --pillar-override: %s", msg)
	}
	return m, nil
}

// targetFunc is a command's per-target work. It returns the target's exit
// code for a run that happened (0, 2, 3), or an error when the target could
// not run (render, compile, pillar errors).
type targetFunc func(t *run.Target) (int, error)

// eachTarget selects the targets of expr and runs fn for each in turn. A
// target that fails does not stop the others; its error is printed
// (prefixed by the target name when there are several) and the worst exit
// code is returned as an exitCode error.
func (a *app) eachTarget(s *run.Session, expr string, fn targetFunc) error {
	targets, err := s.Select(expr)
	if err != nil {
		return err
	}
	return a.forTargets(targets, fn)
}

// eachRun is eachTarget for commands that run states: a target that
// bootstraps a cluster runs before the others (see run.Session.Order).
func (a *app) eachRun(s *run.Session, expr string, sls []string, fn targetFunc) error {
	targets, err := s.Select(expr)
	if err != nil {
		return err
	}
	return a.forTargets(s.Order(targets, sls), fn)
}

func (a *app) forTargets(targets []*run.Target, fn targetFunc) error {
	codes := make([]int, 0, len(targets))
	for _, t := range targets {
		code, err := fn(t)
		if err != nil {
			if len(targets) > 1 {
				err = prefixed(t.Name, err)
			}
			code = a.fail(err)
		}
		codes = append(codes, code)
		if a.ctx.Err() != nil {
			break
		}
	}
	if code := report.Worst(codes...); code != report.ExitOK {
		return exitCode(code)
	}
	return nil
}

// prefixed names the target in an error, keeping its exit code and hint.
func prefixed(name string, err error) error {
	code, hint := errorInfo(err)
	return &cliError{code: code, err: fmt.Errorf("%s: %w", name, err), hint: hint}
}

// errorInfo is err's exit code and hint: a cliError's or a run.Error's,
// else 1 and none.
func errorInfo(err error) (int, string) {
	var ce *cliError
	if errors.As(err, &ce) {
		return ce.code, ce.hint
	}
	var re *run.Error
	if errors.As(err, &re) {
		return re.ExitCode(), re.Hint
	}
	return report.ExitError, ""
}
