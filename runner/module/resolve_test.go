package module

import (
	"context"
	"errors"
	"strings"
	"testing"
)

type stub struct{ name string }

func (s stub) Name() string                                        { return s.name }
func (s stub) Functions() []FuncSpec                               { return []FuncSpec{{Name: "f", Doc: "F."}} }
func (stub) Validate(*Call) error                                  { return nil }
func (stub) Plan(context.Context, *Call) (*Plan, error)            { return &Plan{}, nil }
func (stub) Apply(context.Context, *Call, *Plan) (*Outcome, error) { return &Outcome{}, nil }

// resolver supplies "lazy" and fails "broken", counting loads.
type resolver struct{ loads map[string]int }

func (r *resolver) Names() []string { return []string{"broken", "builtin", "lazy"} }

func (r *resolver) Resolve(name string) (Module, error) {
	r.loads[name]++
	switch name {
	case "lazy", "builtin":
		return stub{name}, nil
	case "broken":
		return nil, errors.New("plugin broken: refusing it")
	}
	return nil, nil
}

func TestResolver(t *testing.T) {
	res := &resolver{loads: map[string]int{}}
	reg := NewRegistry(stub{"builtin"})
	reg.SetResolver(res)

	if got := strings.Join(reg.Names(), ","); got != "broken,builtin,lazy" {
		t.Fatalf("names = %s", got)
	}
	if len(res.loads) != 0 {
		t.Fatalf("Names loaded modules: %v", res.loads)
	}
	if got := len(reg.Loaded()); got != 1 {
		t.Fatalf("loaded = %d before any lookup, want the built-in only", got)
	}
	for range 2 {
		if _, _, ok := reg.Func("lazy", "f"); !ok {
			t.Fatal("lazy.f not found")
		}
		if _, ok := reg.Get("broken"); ok {
			t.Fatal("broken found")
		}
		if _, ok := reg.Get("nosuch"); ok {
			t.Fatal("nosuch found")
		}
	}
	want := map[string]int{"lazy": 1, "broken": 1, "nosuch": 2}
	for n, c := range want {
		if res.loads[n] != c {
			t.Errorf("%s loaded %d times, want %d", n, res.loads[n], c)
		}
	}
	if res.loads["builtin"] != 0 {
		t.Error("an added module was resolved again")
	}
	if err := reg.Err("broken"); err == nil || !strings.Contains(err.Error(), "refusing") {
		t.Errorf("Err(broken) = %v", err)
	}
	if reg.Err("lazy") != nil || len(reg.Errs()) != 1 {
		t.Errorf("errs = %v", reg.Errs())
	}
	if got := len(reg.Loaded()); got != 2 {
		t.Errorf("loaded = %d, want builtin and lazy", got)
	}
}
