package wire

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/statectl/statectl/runner/module"
)

// ToValue converts a Go value to a Value. The YAML-decoded types
// (map[string]any, []any, string, int, float64, bool, nil) convert
// exactly; other types (typed slices and maps, structs in a module's
// changes) go through JSON, as they would in a JSON report.
func ToValue(v any) (*Value, error) {
	switch t := v.(type) {
	case nil:
		return &Value{Kind: &Value_Null{Null: true}}, nil
	case bool:
		return &Value{Kind: &Value_Bool{Bool: t}}, nil
	case int:
		return &Value{Kind: &Value_Int{Int: int64(t)}}, nil
	case int64:
		return &Value{Kind: &Value_Int{Int: t}}, nil
	case int32:
		return &Value{Kind: &Value_Int{Int: int64(t)}}, nil
	case uint32:
		return &Value{Kind: &Value_Int{Int: int64(t)}}, nil
	case float64:
		return &Value{Kind: &Value_Float{Float: t}}, nil
	case float32:
		return &Value{Kind: &Value_Float{Float: float64(t)}}, nil
	case string:
		return &Value{Kind: &Value_String_{String_: t}}, nil
	case []any:
		l := &List{Items: make([]*Value, len(t))}
		for i, x := range t {
			xv, err := ToValue(x)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			l.Items[i] = xv
		}
		return &Value{Kind: &Value_List{List: l}}, nil
	case []string:
		l := &List{Items: make([]*Value, len(t))}
		for i, x := range t {
			l.Items[i] = &Value{Kind: &Value_String_{String_: x}}
		}
		return &Value{Kind: &Value_List{List: l}}, nil
	case map[string]any:
		m, err := ToMap(t)
		if err != nil {
			return nil, err
		}
		return &Value{Kind: &Value_Map{Map: m}}, nil
	}
	return viaJSON(v)
}

// viaJSON converts what ToValue has no case for through its JSON form, as
// a JSON report would show it. Integral numbers become ints (so a []int
// stays a list of ints; an integral float64 field becomes an int too).
func viaJSON(v any) (*Value, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("unsupported value of type %T: %w", v, err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var plain any
	if err := dec.Decode(&plain); err != nil {
		return nil, fmt.Errorf("unsupported value of type %T: %w", v, err)
	}
	return ToValue(numbers(plain))
}

// numbers replaces json.Numbers by ints or float64s.
func numbers(v any) any {
	switch t := v.(type) {
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return int(i)
		}
		f, _ := t.Float64()
		return f
	case []any:
		for i := range t {
			t[i] = numbers(t[i])
		}
	case map[string]any:
		for k := range t {
			t[k] = numbers(t[k])
		}
	}
	return v
}

// FromValue converts a Value back to the YAML-decoded Go types.
func FromValue(v *Value) any {
	switch k := v.GetKind().(type) {
	case *Value_Bool:
		return k.Bool
	case *Value_Int:
		return int(k.Int)
	case *Value_Float:
		return k.Float
	case *Value_String_:
		return k.String_
	case *Value_List:
		out := make([]any, len(k.List.GetItems()))
		for i, x := range k.List.GetItems() {
			out[i] = FromValue(x)
		}
		return out
	case *Value_Map:
		return FromMap(k.Map)
	}
	return nil
}

// ToMap converts a map; nil stays nil.
func ToMap(m map[string]any) (*Map, error) {
	if m == nil {
		return nil, nil
	}
	out := &Map{Entries: make(map[string]*Value, len(m))}
	for k, x := range m {
		v, err := ToValue(x)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		out.Entries[k] = v
	}
	return out, nil
}

// FromMap converts a map; nil stays nil.
func FromMap(m *Map) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m.Entries))
	for k, v := range m.Entries {
		out[k] = FromValue(v)
	}
	return out
}

// ToFuncSpecs converts specs for Describe.
func ToFuncSpecs(fs []module.FuncSpec) ([]*FuncSpec, error) {
	out := make([]*FuncSpec, len(fs))
	for i, f := range fs {
		w := &FuncSpec{Name: f.Name, Doc: f.Doc, Args: make([]*ArgSpec, len(f.Args))}
		for j, a := range f.Args {
			wa := &ArgSpec{Name: a.Name, Type: string(a.Type), Required: a.Required, Secret: a.Secret, Doc: a.Doc}
			if a.Default != nil {
				d, err := ToValue(a.Default)
				if err != nil {
					return nil, fmt.Errorf("function %s: argument %s: default: %w", f.Name, a.Name, err)
				}
				wa.Default = d
			}
			w.Args[j] = wa
		}
		out[i] = w
	}
	return out, nil
}

// FromFuncSpecs converts Describe's specs back.
func FromFuncSpecs(fs []*FuncSpec) []module.FuncSpec {
	out := make([]module.FuncSpec, len(fs))
	for i, f := range fs {
		m := module.FuncSpec{Name: f.GetName(), Doc: f.GetDoc(), Args: make([]module.ArgSpec, len(f.GetArgs()))}
		for j, a := range f.GetArgs() {
			ma := module.ArgSpec{Name: a.GetName(), Type: module.ArgType(a.GetType()), Required: a.GetRequired(),
				Secret: a.GetSecret(), Doc: a.GetDoc()}
			if a.Default != nil {
				ma.Default = FromValue(a.Default)
			}
			m.Args[j] = ma
		}
		out[i] = m
	}
	return out
}

// ToCall converts a call (its target included).
func ToCall(c *module.Call) (*Call, error) {
	args, err := ToMap(c.Args)
	if err != nil {
		return nil, fmt.Errorf("state %s: argument %w", c.ID, err)
	}
	w := &Call{Id: c.ID, Sls: c.SLS, Function: c.Function, Name: c.Name, Args: args, Test: c.Test}
	for _, u := range c.Upstream {
		w.Upstream = append(w.Upstream, &Upstream{Target: u.Target, Id: u.ID, Module: u.Module, Function: u.Function,
			Name: u.Name, Action: string(u.Action), Status: string(u.Status), Send: u.Send})
	}
	if t := c.Target; t != nil {
		wt := &Target{Name: t.Name, StateRoot: t.StateRoot}
		if wt.Roster, err = ToMap(t.Roster); err != nil {
			return nil, fmt.Errorf("state %s: roster %w", c.ID, err)
		}
		if wt.Grains, err = ToMap(t.Grains); err != nil {
			return nil, fmt.Errorf("state %s: grain %w", c.ID, err)
		}
		if wt.Pillar, err = ToMap(t.Pillar); err != nil {
			return nil, fmt.Errorf("state %s: pillar %w", c.ID, err)
		}
		w.Target = wt
	}
	return w, nil
}

// FromCall converts a call back.
func FromCall(w *Call) *module.Call {
	c := &module.Call{ID: w.GetId(), SLS: w.GetSls(), Function: w.GetFunction(), Name: w.GetName(),
		Args: FromMap(w.GetArgs()), Test: w.GetTest()}
	for _, u := range w.GetUpstream() {
		c.Upstream = append(c.Upstream, module.Upstream{Target: u.GetTarget(), ID: u.GetId(), Module: u.GetModule(),
			Function: u.GetFunction(), Name: u.GetName(), Action: module.Action(u.GetAction()),
			Status: module.Status(u.GetStatus()), Send: u.GetSend()})
	}
	if t := w.GetTarget(); t != nil {
		c.Target = &module.Target{Name: t.GetName(), Roster: FromMap(t.GetRoster()), Grains: FromMap(t.GetGrains()),
			Pillar: FromMap(t.GetPillar()), StateRoot: t.GetStateRoot()}
	}
	return c
}

// ToPlan converts a plan; nil stays nil.
func ToPlan(p *module.Plan) (*Plan, error) {
	if p == nil {
		return nil, nil
	}
	ch, err := ToMap(p.Changes)
	if err != nil {
		return nil, fmt.Errorf("changes: %w", err)
	}
	return &Plan{Changes: ch, Comment: p.Comment, Fail: p.Fail, Private: p.Private,
		Action: string(p.Action), Deferred: p.Deferred, Send: p.Send}, nil
}

// FromPlan converts a plan back; nil stays nil.
func FromPlan(w *Plan) *module.Plan {
	if w == nil {
		return nil
	}
	return &module.Plan{Changes: FromMap(w.GetChanges()), Comment: w.GetComment(), Fail: w.GetFail(),
		Private: w.GetPrivate(), Action: module.Action(w.GetAction()), Deferred: w.GetDeferred(), Send: w.GetSend()}
}

// ToOutcome converts an outcome; nil stays nil.
func ToOutcome(o *module.Outcome) (*Outcome, error) {
	if o == nil {
		return nil, nil
	}
	ch, err := ToMap(o.Changes)
	if err != nil {
		return nil, fmt.Errorf("changes: %w", err)
	}
	return &Outcome{Failed: o.Failed, Changes: ch, Comment: o.Comment}, nil
}

// FromOutcome converts an outcome back; nil stays nil.
func FromOutcome(w *Outcome) *module.Outcome {
	if w == nil {
		return nil
	}
	return &module.Outcome{Failed: w.GetFailed(), Changes: FromMap(w.GetChanges()), Comment: w.GetComment()}
}

// ToError wraps a module error; nil stays nil.
func ToError(err error) *Error {
	if err == nil {
		return nil
	}
	return &Error{Message: err.Error()}
}
