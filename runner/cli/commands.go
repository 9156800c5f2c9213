package cli

import (
	"strings"

	"github.com/statectl/statectl/runner/module"
	"github.com/statectl/statectl/runner/report"
	"github.com/statectl/statectl/runner/run"
	"github.com/statectl/statectl/runner/secret"
	"github.com/statectl/statectl/runner/state"
)

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
	s, err := a.open()
	if err != nil {
		return err
	}
	defer s.Close()
	view := a.runView(format, opts)
	if a.opts.batch.size != "" {
		// Rolling runs go one batch at a time across the whole selection;
		// --parallel is refused with --batch (see checkBatchFlags).
		err = a.batchRun(s, expr, sls, func(t *run.Target) (int, error) {
			r, err := s.Pass(t, sls, a.applyPass())
			if err != nil {
				return 0, err
			}
			return view.add(r)
		})
	} else {
		err = a.applyFleet(s, expr, sls, view)
	}
	if werr := view.flush(); werr != nil {
		return werr
	}
	return err
}

// dataCommand prints {target: data} for each target as YAML (default) or
// JSON.
func (a *app) dataCommand(expr string, data func(s *run.Session, t *run.Target) (any, error)) error {
	format, err := a.format(report.YAML)
	if err != nil {
		return err
	}
	s, err := a.open()
	if err != nil {
		return err
	}
	defer s.Close()
	out := map[string]any{}
	err = a.eachTarget(s, expr, func(t *run.Target) (int, error) {
		d, err := data(s, t)
		if err != nil {
			return 0, err
		}
		out[t.Name] = d
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
	return a.dataCommand(expr, func(s *run.Session, t *run.Target) (any, error) {
		c, err := s.Compile(t, sls)
		if err != nil {
			return nil, err
		}
		return s.Secrets().Value(report.StatesData(c, secretArg(s.Registry()))), nil
	})
}

func (a *app) pillarCmd(args []string) error {
	expr, _, err := targetArgs("pillar", args, false)
	if err != nil {
		return err
	}
	return a.dataCommand(expr, func(s *run.Session, t *run.Target) (any, error) {
		p, err := s.Pillar(t)
		if err != nil || a.opts.showSecrets {
			return p, err
		}
		return secret.MaskTree(p), nil
	})
}

func (a *app) grainsCmd(args []string) error {
	expr, _, err := targetArgs("grains", args, false)
	if err != nil {
		return err
	}
	return a.dataCommand(expr, func(s *run.Session, t *run.Target) (any, error) {
		return s.Grains(t)
	})
}

// secretArg reports whether a state's argument is marked secret by its
// module, so renderings mask it.
func secretArg(reg *module.Registry) func(s *state.State, arg string) bool {
	return func(s *state.State, arg string) bool {
		_, fn, ok := reg.Func(s.Module, s.Function)
		if !ok {
			return false
		}
		spec, ok := fn.Arg(arg)
		return ok && spec.Secret
	}
}

// modulesCmd lists the state modules and their functions with argument
// docs: {module: {function: {doc, args}}}.
func (a *app) modulesCmd(args []string) error {
	format, err := a.format(report.YAML)
	if err != nil {
		return err
	}
	s, err := a.open()
	if err != nil {
		return err
	}
	defer s.Close()
	reg := s.Registry()
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
	return s.PluginErrors()
}
