package report

import (
	"sort"

	"github.com/statectl/statectl/runner/secret"
	"github.com/statectl/statectl/runner/state"
)

// reqKinds is the order requisites are listed in.
var reqKinds = []state.ReqKind{state.Require, state.Watch, state.OnChanges, state.OnFail, state.Prereq}

// StatesData renders compiled states in Salt's state.show_sls shape:
//
//	ID: {__sls__: x, __env__: base, module: [function, {name: n}, {arg: v}..., {require: [{mod: id}]}, {order: N}]}
//
// order is the state's 1-based position in execution order. States that
// share an ID and module (a names: expansion) are keyed "ID_|-name" after
// the first. isSecret reports whether an argument must be masked (it may be
// nil); values under credential-named keys are masked too (secret.MaskTree).
func StatesData(c *state.Compiled, isSecret func(s *state.State, arg string) bool) map[string]any {
	out := map[string]any{}
	for i, s := range c.States {
		key := s.ID
		if e, ok := out[key].(map[string]any); ok {
			if _, dup := e[s.Module]; dup {
				key = s.ID + "_|-" + s.Name
			}
		}
		entry, _ := out[key].(map[string]any)
		if entry == nil {
			entry = map[string]any{"__sls__": s.SLS, "__env__": "base"}
			out[key] = entry
		}
		entry[s.Module] = stateBody(c, s, i, isSecret)
	}
	return out
}

func stateBody(c *state.Compiled, s *state.State, idx int, isSecret func(*state.State, string) bool) []any {
	body := []any{s.Function, map[string]any{"name": s.Name}}
	seen := map[string]bool{"name": true}
	add := func(k string) {
		if seen[k] {
			return
		}
		seen[k] = true
		v, ok := s.Args[k]
		if !ok {
			return
		}
		if (isSecret != nil && isSecret(s, k)) || secret.Key(k) {
			v = secret.Mask
		} else {
			v = secret.MaskTree(v)
		}
		body = append(body, map[string]any{k: v})
	}
	for _, k := range s.ArgOrder {
		add(k)
	}
	rest := make([]string, 0, len(s.Args))
	for k := range s.Args {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	for _, k := range rest {
		add(k)
	}
	for _, kind := range reqKinds {
		var refs []any
		for _, d := range s.Deps {
			if d.Kind != kind || d.Index < 0 || d.Index >= len(c.States) {
				continue
			}
			dep := c.States[d.Index]
			refs = append(refs, map[string]any{dep.Module: dep.ID})
		}
		if len(refs) > 0 {
			body = append(body, map[string]any{string(kind): refs})
		}
	}
	if s.Failhard {
		body = append(body, map[string]any{"failhard": true})
	}
	if s.Timeout > 0 {
		body = append(body, map[string]any{"timeout": s.Timeout.Seconds()})
	}
	return append(body, map[string]any{"order": idx + 1})
}
