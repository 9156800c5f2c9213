package cli

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/statectl/statectl/runner/lock"
	"github.com/statectl/statectl/runner/planfile"
	"github.com/statectl/statectl/runner/report"
	"github.com/statectl/statectl/runner/run"
	"github.com/statectl/statectl/runner/state"
)

// inputs digests this invocation's inputs for a saved plan.
func (a *app) inputs(expr string, sls []string) (planfile.Inputs, error) {
	in, err := planfile.Digest(planfile.InputSpec{
		Expr:           expr,
		SLS:            sls,
		StatesDir:      a.opts.states,
		PillarDir:      a.opts.pillar,
		RosterFile:     a.opts.roster,
		PillarOverride: a.opts.pillarOverride,
		Statectl:       version(),
	})
	if err != nil {
		return in, &cliError{code: report.ExitError, err: err}
	}
	return in, nil
}

// planCmd is `statectl plan TARGET [SLS...] -o FILE`: apply --test that
// also saves every state's plan for `statectl apply --plan FILE`.
func (a *app) planCmd(args []string) error {
	expr, sls, err := targetArgs("plan", args, true)
	if err != nil {
		return err
	}
	if a.opts.planOut == "" {
		return usageError("usage: statectl plan TARGET [SLS...] -o plan.json", "plan needs -o FILE")
	}
	format, opts, err := a.runFormat()
	if err != nil {
		return err
	}
	in, err := a.inputs(expr, sls)
	if err != nil {
		return err
	}
	file := &planfile.File{Version: planfile.Version, Statectl: version(), Created: time.Now().UTC(), Inputs: in}
	if a.now != nil {
		file.Created = a.now().UTC()
	}
	s, err := a.open()
	if err != nil {
		return err
	}
	defer s.Close()
	view := a.runView(format, opts)
	complete := true
	err = a.eachRun(s, expr, sls, func(t *run.Target) (int, error) {
		c, err := s.Compile(t, sls)
		if err != nil {
			complete = false
			return 0, err
		}
		l, err := s.Lock(t, "state.plan")
		if err != nil {
			complete = false
			return 0, err
		}
		defer l.Release()
		rec := planfile.NewRecorder(t.Name, c)
		r := s.Execute(t, c, run.Exec{Test: true, Check: rec.Check})
		rec.Finish(r.Results)
		if r.Interrupted || r.Failhard {
			complete = false
		}
		file.Targets = append(file.Targets, rec.T)
		return view.add(r)
	})
	if werr := view.flush(); werr != nil {
		return werr
	}
	if !complete || a.ctx.Err() != nil {
		// A partial plan would apply a part of what was reviewed.
		fmt.Fprintf(a.stderr, "statectl: error: plan not written: not every target was planned completely\n")
		if err == nil {
			err = exitCode(report.ExitError)
		}
		return err
	}
	if werr := planfile.Write(a.opts.planOut, file); werr != nil {
		return &cliError{code: report.ExitError, err: werr}
	}
	fmt.Fprintf(a.stderr, "statectl: plan for %s saved to %s; apply it with: statectl apply --plan %s\n",
		strings.Join(file.Names(), ", "), a.opts.planOut, a.opts.planOut)
	return err
}

// staleError is the "plan is stale" refusal: exit 1, nothing applied.
func staleError(reasons ...string) error {
	return &cliError{code: report.ExitError, err: &planfile.StaleError{Reasons: reasons},
		hint: "run 'statectl plan' again, review it, and apply the new plan"}
}

// planTarget is a target of a saved plan, compiled and locked.
type planTarget struct {
	t    *run.Target
	c    *state.Compiled
	plan *planfile.Target
}

// applyPlan is `statectl apply --plan FILE [TARGET [SLS...]]`: check the
// whole plan against the inputs and the live cluster (read-only), then
// apply it; see package planfile for the rules.
func (a *app) applyPlan(expr string, sls []string, format report.Format, opts report.RunOptions) error {
	if a.opts.test {
		return usageError("run 'statectl plan' for a dry run; 'apply --plan' applies", "--plan cannot be combined with --test")
	}
	file, err := planfile.Read(a.opts.planFile)
	if err != nil {
		return &cliError{code: report.ExitError, err: err, hint: "make one with 'statectl plan TARGET -o FILE'"}
	}
	if expr == "" {
		expr, sls = file.Inputs.Expr, file.Inputs.SLS
	} else if expr != file.Inputs.Expr || !slices.Equal(sls, file.Inputs.SLS) {
		return usageError("run 'statectl apply --plan FILE' alone: the plan names its targets and SLS",
			"the plan is for %s %s, not %s %s", file.Inputs.Expr, strings.Join(file.Inputs.SLS, " "), expr, strings.Join(sls, " "))
	}
	if file.Statectl != version() {
		return staleError(fmt.Sprintf("made by statectl %s, this is %s", file.Statectl, version()))
	}
	in, err := a.inputs(expr, sls)
	if err != nil {
		return err
	}
	if diff := file.Inputs.Diff(in); len(diff) > 0 {
		return staleError(strings.Join(diff, ", ") + " changed since the plan was made")
	}
	s, err := a.open()
	if err != nil {
		return err
	}
	defer s.Close()
	selected, err := s.Select(expr)
	if err != nil {
		return err
	}
	selected = s.Order(selected, sls)
	names := make([]string, len(selected))
	for i, t := range selected {
		names[i] = t.Name
	}
	if !slices.Equal(names, file.Names()) {
		return staleError(fmt.Sprintf("targets are now %s, the plan has %s", strings.Join(names, ", "), strings.Join(file.Names(), ", ")))
	}

	// Compile and lock every target first: the check and the apply must
	// see no other run in between.
	var targets []*planTarget
	for _, t := range selected {
		c, err := s.Compile(t, sls)
		if err != nil {
			return prefixed(t.Name, err)
		}
		pt := file.Target(t.Name)
		if planfile.CompiledDigest(c) != pt.Compiled {
			return staleError(t.Name + ": the compiled states differ from the plan's (grains or templates changed)")
		}
		l, err := s.Lock(t, "state.apply")
		if err != nil {
			return err
		}
		defer func(l *lock.Lock) { l.Release() }(l)
		targets = append(targets, &planTarget{t: t, c: c, plan: pt})
	}

	// Phase 1: every state planned again, read-only; any difference
	// refuses the whole plan before anything is applied.
	var reasons []string
	for _, t := range targets {
		chk := planfile.NewChecker(t.plan)
		r := s.Execute(t.t, t.c, run.Exec{Test: true, Check: chk.Check})
		if r.Interrupted {
			return errors.New("interrupted while checking the plan; nothing was applied")
		}
		reasons = append(reasons, chk.Stale()...)
	}
	if len(reasons) > 0 {
		return staleError(reasons...)
	}

	// Phase 2: apply. changed: an earlier target changed something (see
	// planfile.Applier.Earlier).
	view := a.runView(format, opts)
	changed := false
	codes := make([]int, 0, len(targets))
	for _, t := range targets {
		ap := planfile.NewApplier(t.plan)
		ap.Earlier = changed
		r := s.Execute(t.t, t.c, run.Exec{Check: ap.Check})
		for _, res := range r.Results {
			changed = changed || res.Changed()
		}
		code, err := view.add(r)
		if err != nil {
			return err
		}
		codes = append(codes, code)
		if a.ctx.Err() != nil {
			break
		}
	}
	if err := view.flush(); err != nil {
		return err
	}
	if code := report.Worst(codes...); code != report.ExitOK {
		return exitCode(code)
	}
	return nil
}
