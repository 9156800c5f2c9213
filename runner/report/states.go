package report

import (
	"sort"
	"strings"

	"github.com/statectl/statectl/runner/state"
)

// Mask replaces secret argument values in every rendering.
const Mask = "******"

// reqKinds is the order requisites are listed in.
var reqKinds = []state.ReqKind{state.Require, state.Watch, state.OnChanges, state.OnFail, state.Prereq}

// StatesData renders compiled states in Salt's state.show_sls shape:
//
//	ID: {__sls__: x, __env__: base, module: [function, {name: n}, {arg: v}..., {require: [{mod: id}]}, {order: N}]}
//
// order is the state's 1-based position in execution order. States that
// share an ID and module (a names: expansion) are keyed "ID_|-name" after
// the first. secret reports whether an argument must be masked (it may be
// nil); values under credential-named keys are masked too (MaskSecrets).
func StatesData(c *state.Compiled, secret func(s *state.State, arg string) bool) map[string]any {
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
		entry[s.Module] = stateBody(c, s, i, secret)
	}
	return out
}

func stateBody(c *state.Compiled, s *state.State, idx int, secret func(*state.State, string) bool) []any {
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
		if (secret != nil && secret(s, k)) || SecretKey(k) {
			v = Mask
		} else {
			v = MaskSecrets(v)
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

// MaskSecrets returns a deep copy of v in which the value of every map key
// that names a credential (a word password, passwd, secret or token, as in
// cluster_password or core.trust_password) is replaced by Mask. It is the
// safety net for data printed as a whole (pillar, compiled states), where
// no ArgSpec says what is secret.
func MaskSecrets(v any) any {
	switch t := Normalize(v).(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			if SecretKey(k) && e != nil {
				out[k] = Mask
				continue
			}
			out[k] = MaskSecrets(e)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = MaskSecrets(e)
		}
		return out
	default:
		return t
	}
}

// SecretKey reports whether a key names a credential. "key" alone is not
// one: client_key and server_cert are file paths in rosters and pillars.
func SecretKey(k string) bool {
	words := strings.FieldsFunc(strings.ToLower(k), func(r rune) bool {
		return r == '.' || r == '_' || r == '-' || r == ' '
	})
	if n := len(words); n > 0 {
		switch words[n-1] {
		case "expiry", "expiration", "interval", "ttl", "file", "path":
			return false
		}
	}
	for _, w := range words {
		switch w {
		case "password", "passwd", "secret", "token":
			return true
		}
	}
	return false
}
