package render

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/nikolalohinski/gonja/v2/builtins"
	"github.com/nikolalohinski/gonja/v2/exec"
)

// orderFilters make filters see dicts in insertion order. gonja walks a
// map in sorted key order (and reads its entries raw); Jinja2's filters
// iterate a dict as Python does, yielding its keys in insertion order.
func orderFilters() map[string]exec.FilterFunction {
	m := map[string]exec.FilterFunction{
		"__iter": func(e *exec.Evaluator, in *exec.Value, _ *exec.VarArgs) *exec.Value {
			if in.IsError() {
				return passErr(e, in)
			}
			if d, ok := in.Interface().(pyDict); ok {
				return exec.AsValue(d.keyList())
			}
			return in
		},
		"dictsort": simpleFilter(filterDictsort),
		"items": func(e *exec.Evaluator, in *exec.Value, a *exec.VarArgs) *exec.Value {
			if isUndefined(in) {
				return exec.AsValue(&pyList{})
			}
			return simpleFilter(func(in any, _ *exec.VarArgs) (any, error) {
				d, ok := in.(pyDict)
				if !ok {
					return nil, errors.New("Can only get item pairs from a mapping.")
				}
				return dictItems(d), nil
			})(e, in, a)
		},
		"xmlattr": func(e *exec.Evaluator, in *exec.Value, a *exec.VarArgs) *exec.Value {
			fn, _ := builtins.Filters.Get("xmlattr")
			if d, ok := in.Interface().(pyDict); ok {
				pairs := make([]*exec.Pair, 0, len(d))
				for _, k := range d.keys() {
					pairs = append(pairs, &exec.Pair{Key: exec.AsValue(k), Value: exec.AsValue(d[k].v)})
				}
				in = exec.AsValue(&exec.Dict{Pairs: pairs})
			}
			return fn(e, in, a)
		},
	}
	// pprint: Python's pprint sorts dict keys (it also wraps at 80
	// columns, which this does not).
	m["pprint"] = simpleFilter(func(in any, _ *exec.VarArgs) (any, error) {
		return pyRepr(unordered(in)), nil
	})
	// reverse: gonja leaves two-element lists as they are.
	m["reverse"] = simpleFilter(func(in any, _ *exec.VarArgs) (any, error) {
		if s, ok := in.(string); ok {
			r := []rune(s)
			slices.Reverse(r)
			return string(r), nil
		}
		items, err := iterItems(in)
		if err != nil {
			return nil, err
		}
		slices.Reverse(items)
		l := pyList(items)
		return &l, nil
	})
	// Filters that iterate their input: a dict becomes its keys.
	for _, name := range []string{"batch", "first", "groupby", "join", "last", "map", "max", "min",
		"random", "reject", "rejectattr", "select", "selectattr", "slice", "sort", "sum"} {
		fn, ok := builtins.Filters.Get(name)
		if !ok {
			continue
		}
		m[name] = func(e *exec.Evaluator, in *exec.Value, a *exec.VarArgs) *exec.Value {
			if d, ok := in.Interface().(pyDict); ok {
				in = exec.AsValue(d.keyList())
			}
			return fn(e, in, a)
		}
	}
	return m
}

// unordered is a deep copy of x whose dicts iterate in sorted key order.
func unordered(x any) any {
	switch v := toPy(x).(type) {
	case pyDict:
		c := make(pyDict, len(v))
		for k, e := range v {
			c.setUnordered(k, unordered(e.v))
		}
		return c
	case *pyList:
		c := make(pyList, len(*v))
		for i, e := range *v {
			c[i] = unordered(e)
		}
		return &c
	case pyTuple:
		c := make(pyTuple, len(v))
		for i, e := range v {
			c[i] = unordered(e)
		}
		return c
	default:
		return v
	}
}

// pyDictBuiltin is Python's dict(mapping_or_pairs, **kwargs). gonja's
// dict() builds its result from a map of the keyword arguments, so its
// order would change from run to run; keyword arguments are added sorted.
func pyDictBuiltin(a *exec.VarArgs) (any, error) {
	if len(a.Args) > 1 {
		return nil, fmt.Errorf("dict expected at most 1 argument, got %d", len(a.Args))
	}
	d := newDict(len(a.KwArgs))
	if _, err := d.method("update")(a); err != nil {
		return nil, err
	}
	return d, nil
}

// dictItems is d.items() as a template list of (key, value) tuples.
func dictItems(d pyDict) *pyList {
	keys := d.keys()
	l := make(pyList, len(keys))
	for i, k := range keys {
		l[i] = pyTuple{k, d[k].v}
	}
	return &l
}

// filterDictsort is Jinja2's dictsort(value, case_sensitive=False,
// by='key', reverse=False): the (key, value) pairs, stably sorted.
func filterDictsort(in any, a *exec.VarArgs) (any, error) {
	d, ok := in.(pyDict)
	if !ok {
		return nil, fmt.Errorf("'%s' object has no attribute 'items'", pyTypeName(in))
	}
	caseSensitive, by, reverse := false, "key", false
	if v := arg(a, 0, "case_sensitive"); v != nil {
		caseSensitive = pyTruth(v)
	}
	if v := arg(a, 1, "by"); v != nil {
		by = pyStr(toPy(v))
	}
	if v := arg(a, 2, "reverse"); v != nil {
		reverse = pyTruth(v)
	}
	pos := 0
	switch by {
	case "key":
	case "value":
		pos = 1
	default:
		return nil, errors.New(`You can only sort by either "key" or "value"`)
	}
	items := *dictItems(d)
	sortKey := func(x any) any {
		v := x.(pyTuple)[pos]
		if s, ok := v.(string); ok && !caseSensitive {
			return strings.ToLower(s)
		}
		return v
	}
	var err error
	slices.SortStableFunc(items, func(x, y any) int {
		c, e := pyCompare(sortKey(x), sortKey(y))
		if e != nil && err == nil {
			err = e
		}
		if reverse {
			return -c
		}
		return c
	})
	if err != nil {
		return nil, err
	}
	return &items, nil
}

// pyCompare orders a and b as Python's < does for numbers, strings and
// sequences; other combinations are a TypeError in Python too.
func pyCompare(a, b any) (int, error) {
	a, b = toPy(a), toPy(b)
	if x, _, _, err := numPair("<", a, 0); err == nil {
		if y, _, _, err := numPair("<", b, 0); err == nil {
			switch {
			case x < y:
				return -1, nil
			case x > y:
				return 1, nil
			}
			return 0, nil
		}
	}
	if x, ok := a.(string); ok {
		if y, ok := b.(string); ok {
			return strings.Compare(x, y), nil
		}
	}
	seq := func(v any) ([]any, bool) {
		switch s := v.(type) {
		case *pyList:
			return *s, true
		case pyTuple:
			return s, true
		}
		return nil, false
	}
	if x, ok := seq(a); ok && pyTypeName(a) == pyTypeName(b) {
		y, _ := seq(b)
		for i := 0; i < len(x) && i < len(y); i++ {
			if pyEqual(x[i], y[i]) {
				continue
			}
			return pyCompare(x[i], y[i])
		}
		return len(x) - len(y), nil
	}
	return 0, fmt.Errorf("'<' not supported between instances of '%s' and '%s'", pyTypeName(a), pyTypeName(b))
}
