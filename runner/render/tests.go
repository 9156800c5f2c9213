package render

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"unicode"

	"github.com/nikolalohinski/gonja/v2/exec"
)

// pyTests are Jinja2's built-in tests (jinja2/tests.py) with Python
// semantics where gonja's differ: bools are numbers (True == 1), odd and
// even take Python's modulo, lower/upper test str(value), true/false are
// identity tests, and filter/test look the name up in the environment.
// The differential corpus (062_tests_and_literals.sls) checks each
// against Jinja2.
func pyTests() map[string]exec.TestFunction {
	num := func(in *exec.Value) (float64, bool) {
		switch v := toPy(in).(type) {
		case bool:
			return float64(boolInt(v)), true
		case int:
			return float64(v), true
		case float64:
			return v, true
		}
		return 0, false
	}
	mod2 := func(name string, want float64) exec.TestFunction {
		return func(_ *exec.Context, in *exec.Value, _ *exec.VarArgs) (bool, error) {
			if in.IsError() {
				return false, errors.New(in.Error())
			}
			x, ok := num(in)
			if !ok {
				return false, fmt.Errorf("the %s test needs a number, got %s", name, pyTypeName(toPy(in)))
			}
			m := math.Mod(x, 2)
			if m < 0 {
				m += 2 // Python's % takes the divisor's sign
			}
			return m == want, nil
		}
	}
	is := func(want bool) exec.TestFunction {
		return func(_ *exec.Context, in *exec.Value, _ *exec.VarArgs) (bool, error) {
			b, ok := toPy(in).(bool)
			return ok && b == want, nil
		}
	}
	cased := func(wantUpper bool) exec.TestFunction {
		return func(_ *exec.Context, in *exec.Value, _ *exec.VarArgs) (bool, error) {
			if in.IsError() {
				return false, errors.New(in.Error())
			}
			return pyCased(pyStr(toPy(in)), wantUpper), nil
		}
	}
	eq := func(_ *exec.Context, in *exec.Value, a *exec.VarArgs) (bool, error) {
		if len(a.Args) != 1 {
			return false, errors.New("the eq test takes one argument")
		}
		return pyEqual(in.Interface(), a.Args[0].Interface()), nil
	}
	m := map[string]exec.TestFunction{
		"odd":   mod2("odd", 1),
		"even":  mod2("even", 0),
		"true":  is(true),
		"false": is(false),
		"boolean": func(_ *exec.Context, in *exec.Value, _ *exec.VarArgs) (bool, error) {
			_, ok := toPy(in).(bool)
			return ok, nil
		},
		"number": func(_ *exec.Context, in *exec.Value, _ *exec.VarArgs) (bool, error) {
			_, ok := num(in)
			return ok, nil
		},
		"integer": func(_ *exec.Context, in *exec.Value, _ *exec.VarArgs) (bool, error) {
			_, ok := toPy(in).(int)
			return ok, nil
		},
		"float": func(_ *exec.Context, in *exec.Value, _ *exec.VarArgs) (bool, error) {
			_, ok := toPy(in).(float64)
			return ok, nil
		},
		"lower": cased(false),
		"upper": cased(true),
		"eq":    eq, "equalto": eq, "==": eq,
		"ne": func(c *exec.Context, in *exec.Value, a *exec.VarArgs) (bool, error) {
			r, err := eq(c, in, a)
			return !r, err
		},
		"in": func(_ *exec.Context, in *exec.Value, a *exec.VarArgs) (bool, error) {
			if len(a.Args) != 1 {
				return false, errors.New("the in test takes one argument")
			}
			return pyContains(toPy(a.Args[0]), toPy(in))
		},
		"filter": func(_ *exec.Context, in *exec.Value, _ *exec.VarArgs) (bool, error) {
			s, ok := toPy(in).(string)
			return ok && !strings.HasPrefix(s, "__") && jinjaEnv().Filters.Exists(s), nil
		},
		"test": func(_ *exec.Context, in *exec.Value, _ *exec.VarArgs) (bool, error) {
			s, ok := toPy(in).(string)
			return ok && jinjaEnv().Tests.Exists(s), nil
		},
	}
	m["!="] = m["ne"]
	return m
}

// pyCased is str.isupper() (wantUpper) or str.islower(): at least one cased
// character and none of the other case.
func pyCased(s string, wantUpper bool) bool {
	seen := false
	for _, r := range s {
		switch {
		case unicode.IsUpper(r) || unicode.IsTitle(r):
			if !wantUpper {
				return false
			}
			seen = true
		case unicode.IsLower(r):
			if wantUpper {
				return false
			}
			seen = true
		}
	}
	return seen
}

// pyContains is Python's "x in container".
func pyContains(container, x any) (bool, error) {
	switch c := container.(type) {
	case string:
		s, ok := x.(string)
		if !ok {
			return false, fmt.Errorf("'in <string>' requires string as left operand, not %s", pyTypeName(x))
		}
		return strings.Contains(c, s), nil
	case *pyList:
		for _, e := range *c {
			if pyEqual(e, x) {
				return true, nil
			}
		}
		return false, nil
	case pyTuple:
		for _, e := range c {
			if pyEqual(e, x) {
				return true, nil
			}
		}
		return false, nil
	case pyDict:
		for _, k := range c.keys() {
			if pyEqual(k, x) {
				return true, nil
			}
		}
		return false, nil
	}
	return false, fmt.Errorf("argument of type '%s' is not iterable", pyTypeName(container))
}

// pyAttrFilter is Jinja2's attr filter: getattr only, never the item, so
// {{ d | attr("key") }} is undefined for a dict key as in Python; methods
// (dict.items, str.upper ...) are attributes.
func pyAttrFilter(e *exec.Evaluator, in *exec.Value, a *exec.VarArgs) *exec.Value {
	if in.IsError() {
		return passErr(e, in)
	}
	if len(a.Args) != 1 {
		return exec.AsValue(errors.New("attr expects one argument"))
	}
	name := pyStr(toPy(a.Args[0]))
	missing := func() *exec.Value {
		return undefinedf("'%s object' has no attribute '%s'", pyTypeName(toPy(in)), name)
	}
	switch v := toPy(in).(type) {
	case pyDict:
		if m := v.method(name); m != nil {
			return exec.AsValue(m)
		}
		return missing()
	case *pyList:
		if r, ok := v.GetAttribute(name); ok {
			return r
		}
		return missing()
	case string:
		if fn, ok := jinjaEnv().Methods.Str.Get(name); ok && fn != nil {
			return exec.AsValue(method(func(args *exec.VarArgs) (any, error) { return fn(v, in, args) }))
		}
		return missing()
	}
	return missing()
}
