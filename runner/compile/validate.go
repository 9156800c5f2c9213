package compile

import (
	"fmt"

	"github.com/statectl/statectl/runner/module"
)

// validate checks every state against its module's schema, then asks the
// module itself. All problems are collected.
func (c *compiler) validate() {
	reg := c.opts.Registry
	// Calls that passed their own checks, per module, for the
	// modules' whole-run checks (module.RunValidator) below.
	calls := map[string][]*module.Call{}
	var mods []string
	nodeOf := map[string]*node{}
	for _, n := range c.nodes {
		st := n.st
		line := n.fnLine
		if line == 0 {
			line = st.Line
		}
		fail := func(file string, line int, arg, hint, format string, a ...any) {
			c.errs.add(&Error{File: file, Line: line, SLS: st.SLS, ID: st.ID, Arg: arg, Hint: hint,
				Msg: fmt.Sprintf("state '%s' in SLS '%s': ", stateLabel(st), st.SLS) + fmt.Sprintf(format, a...)})
		}
		mod, ok := reg.Get(st.Module)
		if !ok {
			hint := didYouMean(st.Module, reg.Names())
			fail(st.File, line, "", joinHint(hint, "`statectl modules` lists the available modules"),
				"unknown module '%s' in '%s.%s'", st.Module, st.Module, st.Function)
			continue
		}
		_, spec, ok := reg.Func(st.Module, st.Function)
		if !ok {
			var fns []string
			for _, f := range mod.Functions() {
				fns = append(fns, st.Module+"."+f.Name)
			}
			hint := didYouMean(st.Module+"."+st.Function, fns)
			fail(st.File, line, "", joinHint(hint, "`statectl modules` lists the functions of each module"),
				"unknown function '%s.%s'", st.Module, st.Function)
			continue
		}
		full := st.Module + "." + st.Function
		before := len(c.errs.errs)
		for _, a := range spec.Args {
			if !a.Required || a.Name == kwName {
				continue
			}
			if v, set := st.Args[a.Name]; !set {
				fail(st.File, line, a.Name, "", "missing required argument '%s' for %s", a.Name, full)
			} else if v == nil {
				fail(n.argFile[a.Name], n.argLine[a.Name], a.Name, "", "required argument '%s' of %s is empty (null)", a.Name, full)
			}
		}
		for _, k := range st.ArgOrder {
			a, known := spec.Arg(k)
			if !known {
				if k == kwName {
					continue
				}
				if saltOnly[k] {
					fail(n.argFile[k], n.argLine[k], k, "", "'%s' is a Salt keyword statectl does not support", k)
					continue
				}
				names := []string{kwName, kwNames, kwOrder, kwFailhard, kwTimeout}
				for _, s := range spec.Args {
					names = append(names, s.Name)
				}
				for r := range reqKeywords {
					names = append(names, r)
				}
				fail(n.argFile[k], n.argLine[k], k, joinHint(didYouMean(k, names), "`statectl modules` documents the arguments of "+full),
					"unknown argument '%s' for %s", k, full)
				continue
			}
			v := st.Args[k]
			if v == nil || a.Type.Accepts(v) {
				continue
			}
			fail(n.argFile[k], n.argLine[k], k, "", "argument '%s' of %s must be %s, got %s", k, full, typeDesc(a.Type), valueType(v))
		}
		if len(c.errs.errs) > before {
			continue // the module's own checks assume a well-typed call
		}
		call := &module.Call{ID: st.ID, SLS: st.SLS, Function: st.Function, Name: st.Name, Args: st.Args, Target: c.moduleTarget()}
		if err := mod.Validate(call); err != nil {
			fail(st.File, line, "", "", "%s: %v", full, err)
			continue
		}
		if _, ok := mod.(module.RunValidator); ok {
			if calls[st.Module] == nil {
				mods = append(mods, st.Module)
			}
			calls[st.Module] = append(calls[st.Module], call)
			nodeOf[st.Module+"."+st.ID] = n
		}
	}
	c.validateRun(mods, calls, nodeOf)
}

// validateRun asks each module that checks states together
// (module.RunValidator) about its calls of this run.
func (c *compiler) validateRun(mods []string, calls map[string][]*module.Call, nodeOf map[string]*node) {
	for _, name := range mods {
		mod, _ := c.opts.Registry.Get(name)
		for _, e := range mod.(module.RunValidator).ValidateRun(calls[name]) {
			n := nodeOf[name+"."+e.ID]
			if n == nil {
				c.errs.add(&Error{Msg: fmt.Sprintf("module %s: %v", name, e.Err)})
				continue
			}
			st := n.st
			line := n.fnLine
			if line == 0 {
				line = st.Line
			}
			c.errs.add(&Error{File: st.File, Line: line, SLS: st.SLS, ID: st.ID,
				Msg: fmt.Sprintf("state '%s' in SLS '%s': %s.%s: %v", stateLabel(st), st.SLS, st.Module, st.Function, e.Err)})
		}
	}
}

func (c *compiler) moduleTarget() *module.Target {
	s := c.opts.subject()
	return &module.Target{Name: s.ID, Grains: s.Grains}
}

func joinHint(a, b string) string {
	if a == "" {
		return b
	}
	return a + " " + b
}

func typeDesc(t module.ArgType) string {
	switch t {
	case module.TypeString:
		return "a string"
	case module.TypeBool:
		return "true or false"
	case module.TypeInt:
		return "an integer"
	case module.TypeList:
		return "a list"
	case module.TypeMap:
		return "a mapping"
	case module.TypeStringList:
		return "a string or a list of strings"
	}
	return string(t)
}

// valueType names the type of a decoded value; never its content, which
// may be a secret.
func valueType(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int, int64, uint64:
		return "an integer"
	case float64:
		return "a float"
	case []any:
		for _, e := range x {
			if _, ok := e.([]any); ok {
				return "a list of lists"
			}
			if _, ok := e.(map[string]any); ok {
				return "a list of mappings"
			}
		}
		return "a list"
	case map[string]any:
		return "a mapping"
	}
	return fmt.Sprintf("%T", v)
}
