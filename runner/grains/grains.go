// Package grains builds the grains of a target: core grains of this machine
// (for the target named "local"), grains from extra sources such as the
// Incus layer, and the roster's custom grains, which override both.
//
// Grains are plain YAML-like values: string, bool, int, float64, nil,
// []any and map[string]any, so templates and target matching see one shape
// whatever produced them.
package grains

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"reflect"

	"github.com/statectl/statectl/runner/roster"
)

// Local is the target name whose grains are this machine's core grains.
const Local = "local"

// Source adds grains for a target, e.g. the Incus layer's `incus: {...}`
// server grains. It returns nil when it has nothing for the target. Sources
// are how other layers extend grains without this package knowing them.
type Source func(ctx context.Context, name string, entry *roster.Entry) (map[string]any, error)

// For returns the grains of roster target name. core are this machine's
// core grains (pass them for Local only, nil otherwise), extra are further
// layers in order (e.g. from Sources); roster custom grains come last. A
// later layer replaces an earlier one's top-level keys, as Salt's custom
// grains replace core ones. id is always the target name. The result shares
// nothing with its inputs.
func For(name string, entry *roster.Entry, core map[string]any, extra ...map[string]any) map[string]any {
	out := map[string]any{}
	layers := append([]map[string]any{core}, extra...)
	if entry != nil {
		if entry.Cluster != "" {
			// The roster's cluster field; a custom grain of the same name wins.
			layers = append(layers, map[string]any{"cluster": entry.Cluster})
		}
		layers = append(layers, entry.Grains)
	}
	for _, l := range layers {
		for k, v := range l {
			out[k] = Plain(v)
		}
	}
	out["id"] = name
	return out
}

// Gather returns the grains of target name: core grains when name is Local,
// then each source in order, then the roster's custom grains.
func Gather(ctx context.Context, name string, entry *roster.Entry, sources ...Source) (map[string]any, error) {
	var core map[string]any
	if name == Local {
		var err error
		if core, err = Core(); err != nil {
			return nil, err
		}
	}
	extra := make([]map[string]any, 0, len(sources))
	for _, src := range sources {
		g, err := src(ctx, name, entry)
		if err != nil {
			return nil, fmt.Errorf("failed to gather grains for %s: %w", name, err)
		}
		extra = append(extra, g)
	}
	return For(name, entry, core, extra...), nil
}

// Plain deep-copies v into plain YAML-like values: every integer type
// becomes int, float32 float64, json.Number int or float64, any slice or
// array []any, any map map[string]any (keys formatted with %v). Other
// values are returned as they are.
func Plain(v any) any {
	switch x := v.(type) {
	case nil, string, bool, float64, int:
		return x
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = Plain(e)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = Plain(e)
		}
		return l
	case float32:
		return float64(x)
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return int(i)
		}
		if f, err := x.Float64(); err == nil {
			return f
		}
		return x.String()
	case []byte:
		return string(x)
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return int(rv.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if u := rv.Uint(); u <= math.MaxInt {
			return int(u)
		}
		return v
	case reflect.Slice, reflect.Array:
		l := make([]any, rv.Len())
		for i := range l {
			l[i] = Plain(rv.Index(i).Interface())
		}
		return l
	case reflect.Map:
		m := make(map[string]any, rv.Len())
		it := rv.MapRange()
		for it.Next() {
			m[fmt.Sprint(it.Key().Interface())] = Plain(it.Value().Interface())
		}
		return m
	}
	return v
}

// Clone deep-copies a grains or pillar map into plain values.
func Clone(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range maps.All(m) {
		out[k] = Plain(v)
	}
	return out
}
