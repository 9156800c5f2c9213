package render

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/nikolalohinski/gonja/v2/exec"
)

// pyFilters fix Jinja2 built-in filters whose gonja versions differ from
// Python (found by testdata/render/corpus/063_all_filters.sls): bools are
// numbers for int and float, round rounds half to even and keeps an int an
// int, length counts a range, max/min with attribute return the item, and
// urlencode quotes as urllib does. wrapped holds the filters they fall
// back to.
func pyFilters(wrapped *exec.FilterSet) map[string]exec.FilterFunction {
	orig := func(name string) exec.FilterFunction {
		fn, _ := wrapped.Get(name)
		return fn
	}
	boolAs := func(name string, conv func(bool) any) exec.FilterFunction {
		fn := orig(name)
		return func(e *exec.Evaluator, in *exec.Value, a *exec.VarArgs) *exec.Value {
			if b, ok := in.Interface().(bool); ok && !in.IsError() {
				return exec.AsValue(conv(b))
			}
			return fn(e, in, a)
		}
	}
	length := func(e *exec.Evaluator, in *exec.Value, a *exec.VarArgs) *exec.Value {
		if in.IsError() {
			return passErr(e, in)
		}
		switch v := toPy(in).(type) {
		case string:
			return exec.AsValue(utf8.RuneCountInString(v))
		case *pyList:
			return exec.AsValue(len(*v))
		case pyTuple:
			return exec.AsValue(len(v))
		case pyDict:
			return exec.AsValue(len(v))
		}
		return orig("length")(e, in, a)
	}
	extreme := func(name string, sign int) exec.FilterFunction {
		fn := orig(name)
		return func(e *exec.Evaluator, in *exec.Value, a *exec.VarArgs) *exec.Value {
			attr := a.KwArgs["attribute"]
			if attr == nil || in.IsError() {
				return fn(e, in, a)
			}
			cs := false
			if v := a.KwArgs["case_sensitive"]; v != nil {
				cs = pyTruth(toPy(v))
			}
			items, err := pyItems(toPy(in))
			if err != nil {
				return exec.AsValue(err)
			}
			var best, bestKey any
			for i, it := range items {
				k, ok := pyAttrPath(it, pyStr(toPy(attr)))
				if !ok {
					return undefinedf("'%s object' has no attribute '%s'", pyTypeName(it), pyStr(toPy(attr)))
				}
				if s, isStr := k.(string); isStr && !cs {
					k = strings.ToLower(s)
				}
				if i == 0 {
					best, bestKey = it, k
					continue
				}
				c, err := pyCompare(k, bestKey)
				if err != nil {
					return exec.AsValue(err)
				}
				if c*sign > 0 {
					best, bestKey = it, k
				}
			}
			if best == nil {
				return undefinedf("No aggregated item, sequence was empty.")
			}
			return exec.AsValue(best)
		}
	}
	return map[string]exec.FilterFunction{
		"int":       boolAs("int", func(b bool) any { return boolInt(b) }),
		"float":     boolAs("float", func(b bool) any { return float64(boolInt(b)) }),
		"length":    length,
		"count":     length,
		"max":       extreme("max", 1),
		"min":       extreme("min", -1),
		"round":     simpleFilter(filterRound),
		"urlencode": simpleFilter(filterURLEncode),
	}
}

// pyItems lists what iterating x gives in Python.
func pyItems(x any) ([]any, error) {
	switch v := x.(type) {
	case *pyList:
		return *v, nil
	case pyTuple:
		return v, nil
	case pyDict:
		return *v.keyList(), nil
	case string:
		var out []any
		for _, r := range v {
			out = append(out, string(r))
		}
		return out, nil
	}
	return nil, fmt.Errorf("'%s' object is not iterable", pyTypeName(x))
}

// pyAttrPath is Jinja2's make_attrgetter: a dotted path of keys or indexes.
func pyAttrPath(x any, path string) (any, bool) {
	for _, part := range strings.Split(path, ".") {
		switch v := toPy(x).(type) {
		case pyDict:
			e, ok := v.get(part)
			if !ok {
				return nil, false
			}
			x = e
		case *pyList:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(*v) {
				return nil, false
			}
			x = (*v)[i]
		default:
			return nil, false
		}
	}
	return toPy(x), true
}

// filterRound is Jinja2's round(value, precision=0, method='common'):
// common is Python's round() (half to even on the float's exact value, an
// int stays an int); ceil and floor give floats.
func filterRound(in any, a *exec.VarArgs) (any, error) {
	p := 0
	if v := arg(a, 0, "precision"); v != nil {
		i, ok := toPy(v).(int)
		if !ok {
			return nil, errors.New("round: precision must be an integer")
		}
		p = i
	}
	method := "common"
	if v := arg(a, 1, "method"); v != nil {
		method = pyStr(toPy(v))
	}
	var x float64
	isInt := false
	switch v := in.(type) {
	case int:
		x, isInt = float64(v), true
	case bool:
		x, isInt = float64(boolInt(v)), true
	case float64:
		x = v
	default:
		return nil, fmt.Errorf("type %s doesn't define __round__ method", pyTypeName(in))
	}
	scale := math.Pow(10, float64(p))
	switch method {
	case "ceil":
		return math.Ceil(x*scale) / scale, nil
	case "floor":
		return math.Floor(x*scale) / scale, nil
	case "common":
	default:
		return nil, errors.New("method must be common, ceil or floor")
	}
	if isInt {
		if p >= 0 {
			return int(x), nil
		}
		return int(math.RoundToEven(x*scale) / scale), nil
	}
	if p < 0 {
		return math.RoundToEven(x*scale) / scale, nil
	}
	// strconv rounds the exact binary value, ties to even, as Python.
	r, err := strconv.ParseFloat(strconv.FormatFloat(x, 'f', p, 64), 64)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// filterURLEncode is Jinja2's urlencode: a string is quoted with "/" safe;
// a dict or a list of pairs becomes a query string.
func filterURLEncode(in any, _ *exec.VarArgs) (any, error) {
	var pairs [][2]any
	switch v := in.(type) {
	case string:
		return pyURLQuote(v, "/", false), nil
	case pyDict:
		for _, k := range v.keys() {
			val, _ := v.get(k)
			pairs = append(pairs, [2]any{k, val})
		}
	case *pyList, pyTuple:
		items, _ := pyItems(v)
		for _, it := range items {
			kv, err := pyItems(toPy(it))
			if err != nil || len(kv) != 2 {
				return nil, errors.New("urlencode: items must be pairs")
			}
			pairs = append(pairs, [2]any{kv[0], kv[1]})
		}
	default:
		return pyURLQuote(pyStr(in), "/", false), nil
	}
	parts := make([]string, len(pairs))
	for i, p := range pairs {
		parts[i] = pyURLQuote(pyStr(toPy(p[0])), "", true) + "=" + pyURLQuote(pyStr(toPy(p[1])), "", true)
	}
	return strings.Join(parts, "&"), nil
}

// pyURLQuote is urllib.parse.quote (plus: spaces as "+", as Jinja2's
// url_quote for query strings).
func pyURLQuote(s, safe string, plus bool) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9',
			c == '_', c == '.', c == '-', c == '~', strings.IndexByte(safe, c) >= 0:
			b.WriteByte(c)
		case c == ' ' && plus:
			b.WriteByte('+')
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}
