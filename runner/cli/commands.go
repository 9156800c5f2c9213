package cli

import (
	"fmt"
	"strings"

	"github.com/statectl/statectl/runner/report"
)

// targetFunc is a command's per-target work. It returns the target's exit code
// for a run that happened (0, 2, 3), or an error when the target could not
// run (render, compile, pillar errors).
type targetFunc func(n *node) (int, error)

// eachTarget selects the targets of expr and runs fn for each in turn. A
// target that fails does not stop the others; its error is printed
// (prefixed by the target name when there are several) and the worst exit
// code is returned as an exitCode error.
func (a *app) eachTarget(expr string, fn targetFunc) error {
	if _, err := a.override(); err != nil {
		return err
	}
	nodes, err := a.selectTargets(expr)
	if err != nil {
		return err
	}
	codes := make([]int, 0, len(nodes))
	for _, n := range nodes {
		code, err := fn(n)
		if err != nil {
			if len(nodes) > 1 {
				err = prefixed(n.name, err)
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
	if ce, ok := err.(*cliError); ok {
		return &cliError{code: ce.code, err: fmt.Errorf("%s: %w", name, ce.err), hint: ce.hint}
	}
	return fmt.Errorf("%s: %w", name, err)
}

// targetArgs splits TARGET [SLS...].
func targetArgs(cmd string, args []string, sls bool) (string, []string, error) {
	use := "statectl " + cmd + " TARGET"
	if sls {
		use += " [SLS...]"
	}
	if len(args) == 0 {
		return "", nil, usageError("usage: "+use+"; TARGET is a roster name, a glob, a compound expression or local", "%s needs a target", cmd)
	}
	if !sls && len(args) > 1 {
		return "", nil, usageError("usage: "+use, "%s takes one target, got %s", cmd, strings.Join(args, " "))
	}
	for _, arg := range args[1:] {
		if err := saltKwarg(cmd, arg); err != nil {
			return "", nil, err
		}
	}
	return args[0], args[1:], nil
}

func (a *app) apply(args []string) error {
	var expr string
	var sls []string
	var err error
	if a.opts.planFile == "" || len(args) > 0 { // a saved plan names its targets
		if expr, sls, err = targetArgs("apply", args, true); err != nil {
			return err
		}
	}
	format, opts, err := a.runFormat()
	if err != nil {
		return err
	}
	if a.opts.planFile != "" {
		return a.applyPlan(expr, sls, format, opts)
	}
	reg := a.registry()
	defer a.closeModules(reg)
	var runs []*report.Run
	err = a.eachTarget(expr, func(n *node) (int, error) {
		run, err := a.pass(n, reg, sls, passOptions{function: "state.apply"})
		if err != nil {
			return 0, err
		}
		// Each target's report as soon as it is done; a blank line
		// separates targets.
		if err := a.writeRun(format, opts, run, len(runs) > 0); err != nil {
			return 0, err
		}
		runs = append(runs, run)
		return report.ExitCode(run, a.opts.detailed), nil
	})
	if format != report.Human && len(runs) > 0 {
		if werr := report.WriteRuns(a.stdout, format, runs, opts); werr != nil {
			return werr
		}
	}
	return err
}

// dataCommand prints {target: data} for each target as YAML (default) or
// JSON.
func (a *app) dataCommand(expr string, data func(n *node) (any, error)) error {
	format, err := a.format(report.YAML)
	if err != nil {
		return err
	}
	out := map[string]any{}
	err = a.eachTarget(expr, func(n *node) (int, error) {
		d, err := data(n)
		if err != nil {
			return 0, err
		}
		out[n.name] = d
		return report.ExitOK, nil
	})
	if len(out) > 0 {
		if werr := report.WriteData(a.stdout, format, out); werr != nil {
			return werr
		}
	}
	return err
}

func (a *app) render(args []string) error {
	expr, sls, err := targetArgs("render", args, true)
	if err != nil {
		return err
	}
	reg := a.registry()
	defer a.closeModules(reg)
	return a.dataCommand(expr, func(n *node) (any, error) {
		c, err := a.compile(n, reg, sls)
		if err != nil {
			return nil, err
		}
		return a.secrets.value(report.StatesData(c, secretArg(reg))), nil
	})
}

func (a *app) pillarCmd(args []string) error {
	expr, _, err := targetArgs("pillar", args, false)
	if err != nil {
		return err
	}
	return a.dataCommand(expr, func(n *node) (any, error) {
		p, err := a.loadPillar(n)
		if err != nil || a.opts.showSecrets {
			return p, err
		}
		return report.MaskSecrets(p), nil
	})
}

func (a *app) grainsCmd(args []string) error {
	expr, _, err := targetArgs("grains", args, false)
	if err != nil {
		return err
	}
	return a.dataCommand(expr, func(n *node) (any, error) {
		if err := a.loadGrains(n); err != nil {
			return nil, err
		}
		return n.grains, nil
	})
}

// modulesCmd lists the state modules and their functions with argument
// docs: {module: {function: {doc, args}}}.
func (a *app) modulesCmd(args []string) error {
	format, err := a.format(report.YAML)
	if err != nil {
		return err
	}
	reg := a.registry()
	defer a.closeModules(reg)
	names := args
	if len(names) == 0 {
		names = reg.Names()
	}
	out := map[string]any{}
	for _, name := range names {
		m, ok := reg.Get(name)
		if !ok && reg.Err(name) != nil {
			continue // a plugin that failed to start: reported below
		}
		if !ok {
			return usageError("run 'statectl modules' to list them", "unknown module %q (known: %s)", name, strings.Join(reg.Names(), ", "))
		}
		fns := map[string]any{}
		for _, f := range m.Functions() {
			fns[f.Name] = f
		}
		out[name] = fns
	}
	if err := report.WriteData(a.stdout, format, out); err != nil {
		return err
	}
	return pluginError(reg, nil)
}
