package render

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/nikolalohinski/gonja/v2/exec"
)

// Template values follow Python's data model so templates behave as they
// do under Salt: dicts have get/items/update..., lists append in place, and
// printing a value gives Python's str(). Every container that enters a
// template (context data, literals, function results) is converted with
// toPy; scalars stay Go values (string, int, float64, bool, nil).

// pyList is a template list, used through a pointer so append/extend
// mutate in place as in Python.
type pyList []any

// pyTuple is an immutable sequence printed as a Python tuple.
type pyTuple []any

// undefinedError marks a lookup of something that does not exist; the
// "defined" test and the "default" filter treat it as Jinja's Undefined.
type undefinedError struct{ msg string }

func (e *undefinedError) Error() string { return e.msg }

func undefinedf(format string, args ...any) *exec.Value {
	return exec.AsValue(&undefinedError{msg: fmt.Sprintf(format, args...)})
}

// toPy converts a Go or gonja value into the template data model. Values
// that already are template containers are returned as they are, so
// aliasing works as in Python ({% set a = d.x %}{% do a.update(...) %}
// changes d.x).
func toPy(x any) any {
	switch v := x.(type) {
	case nil, string, bool, int, float64, pyDict, *pyList, pyTuple:
		return v
	case *exec.Value:
		if v == nil {
			return nil
		}
		return toPy(v.Interface())
	case exec.ValuesList:
		l := make(pyList, len(v))
		for i, e := range v {
			l[i] = toPy(e)
		}
		return &l
	case *exec.Dict:
		d := newDict(len(v.Pairs))
		for _, p := range v.Pairs {
			d.set(p.Key.String(), toPy(p.Value))
		}
		return d
	case exec.Dict:
		return toPy(&v)
	case map[string]any:
		d := newDict(len(v))
		for k, e := range v {
			d.setUnordered(k, toPy(e))
		}
		return d
	case []any:
		l := make(pyList, len(v))
		for i, e := range v {
			l[i] = toPy(e)
		}
		return &l
	case pyList:
		return &v
	case []string:
		l := make(pyList, len(v))
		for i, e := range v {
			l[i] = e
		}
		return &l
	case error:
		return v
	}
	rv := reflect.ValueOf(x)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return int(rv.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return int(rv.Uint())
	case reflect.Float32, reflect.Float64:
		return rv.Float()
	case reflect.String:
		return rv.String()
	case reflect.Bool:
		return rv.Bool()
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			l := pyList{}
			return &l
		}
		l := make(pyList, rv.Len())
		for i := range l {
			l[i] = toPy(rv.Index(i).Interface())
		}
		return &l
	case reflect.Map:
		d := newDict(rv.Len())
		it := rv.MapRange()
		for it.Next() {
			d.setUnordered(pyStr(toPy(it.Key().Interface())), toPy(it.Value().Interface()))
		}
		return d
	case reflect.Chan:
		// gonja's range() yields a channel; Python's range is a sequence.
		l := pyList{}
		for {
			e, ok := rv.Recv()
			if !ok {
				break
			}
			l = append(l, toPy(e.Interface()))
		}
		return &l
	}
	return x
}

// toGo converts template values back to plain Go data (map[string]any,
// []any, scalars) for serialisation and for callers.
func toGo(x any) any {
	switch v := toPy(x).(type) {
	case pyDict:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[k] = toGo(e.v)
		}
		return m
	case *pyList:
		l := make([]any, len(*v))
		for i, e := range *v {
			l[i] = toGo(e)
		}
		return l
	case pyTuple:
		l := make([]any, len(v))
		for i, e := range v {
			l[i] = toGo(e)
		}
		return l
	default:
		return v
	}
}

// String gives Python's repr of a dict, which is also its str().
func (d pyDict) String() string { return pyRepr(d) }

// GetAttribute implements dict methods; a missing attribute falls back to
// the item as in Jinja (getattr, then getitem).
func (d pyDict) GetAttribute(name string) (*exec.Value, bool) {
	if m := d.method(name); m != nil {
		return exec.AsValue(m), true
	}
	return d.GetItem(name)
}

// GetItem looks a key up; a missing key is Undefined.
func (d pyDict) GetItem(key any) (*exec.Value, bool) {
	k, ok := key.(string)
	if !ok {
		k = pyStr(key)
	}
	if v, ok := d.get(k); ok {
		return exec.AsValue(v), true
	}
	return undefinedf("'dict object' has no attribute '%s'", k), false
}

type method func(*exec.VarArgs) (any, error)

func (d pyDict) method(name string) method {
	switch name {
	case "get":
		return func(a *exec.VarArgs) (any, error) {
			if len(a.Args) < 1 || len(a.Args) > 2 {
				return nil, fmt.Errorf("get expected 1 or 2 arguments, got %d", len(a.Args))
			}
			if v, ok := d.get(pyStr(toPy(a.Args[0]))); ok {
				return v, nil
			}
			if len(a.Args) == 2 {
				return toPy(a.Args[1]), nil
			}
			return nil, nil
		}
	case "items":
		return func(*exec.VarArgs) (any, error) {
			keys := d.keys()
			l := make(pyList, len(keys))
			for i, k := range keys {
				l[i] = pyTuple{k, d[k].v}
			}
			return &l, nil
		}
	case "keys":
		return func(*exec.VarArgs) (any, error) {
			return d.keyList(), nil
		}
	case "values":
		return func(*exec.VarArgs) (any, error) {
			keys := d.keys()
			l := make(pyList, len(keys))
			for i, k := range keys {
				l[i] = d[k].v
			}
			return &l, nil
		}
	case "update":
		return func(a *exec.VarArgs) (any, error) {
			if len(a.Args) > 1 {
				return nil, fmt.Errorf("update expected at most 1 argument, got %d", len(a.Args))
			}
			if len(a.Args) == 1 {
				switch src := toPy(a.Args[0]).(type) {
				case pyDict:
					for _, k := range src.keys() {
						d.set(k, src[k].v)
					}
				case *pyList:
					for _, e := range *src {
						var kv []any
						switch p := toPy(e).(type) {
						case *pyList:
							kv = *p
						case pyTuple:
							kv = p
						}
						if len(kv) != 2 {
							return nil, errors.New("dictionary update sequence element has wrong length")
						}
						d.set(pyStr(kv[0]), kv[1])
					}
				default:
					return nil, fmt.Errorf("'%s' object is not iterable", pyTypeName(src))
				}
			}
			// gonja gives keyword arguments as a map, so their
			// order is lost; they are added sorted.
			kw := make([]string, 0, len(a.KwArgs))
			for k := range a.KwArgs {
				kw = append(kw, k)
			}
			sort.Strings(kw)
			for _, k := range kw {
				d.set(k, toPy(a.KwArgs[k]))
			}
			return nil, nil
		}
	case "setdefault":
		return func(a *exec.VarArgs) (any, error) {
			if len(a.Args) < 1 || len(a.Args) > 2 {
				return nil, fmt.Errorf("setdefault expected 1 or 2 arguments, got %d", len(a.Args))
			}
			k := pyStr(toPy(a.Args[0]))
			if v, ok := d.get(k); ok {
				return v, nil
			}
			var def any
			if len(a.Args) == 2 {
				def = toPy(a.Args[1])
			}
			d.set(k, def)
			return def, nil
		}
	case "pop":
		return func(a *exec.VarArgs) (any, error) {
			if len(a.Args) < 1 || len(a.Args) > 2 {
				return nil, fmt.Errorf("pop expected 1 or 2 arguments, got %d", len(a.Args))
			}
			k := pyStr(toPy(a.Args[0]))
			if v, ok := d.get(k); ok {
				d.del(k)
				return v, nil
			}
			if len(a.Args) == 2 {
				return toPy(a.Args[1]), nil
			}
			return nil, fmt.Errorf("KeyError: %s", pyRepr(k))
		}
	case "copy":
		return func(*exec.VarArgs) (any, error) {
			return d.copyDict(), nil
		}
	}
	return nil
}

// String gives Python's repr of a list.
func (l *pyList) String() string { return pyRepr(l) }

// GetAttribute implements list methods.
func (l *pyList) GetAttribute(name string) (*exec.Value, bool) {
	var m method
	switch name {
	case "append":
		m = func(a *exec.VarArgs) (any, error) {
			if len(a.Args) != 1 {
				return nil, fmt.Errorf("append expected 1 argument, got %d", len(a.Args))
			}
			*l = append(*l, toPy(a.Args[0]))
			return nil, nil
		}
	case "extend":
		m = func(a *exec.VarArgs) (any, error) {
			if len(a.Args) != 1 {
				return nil, fmt.Errorf("extend expected 1 argument, got %d", len(a.Args))
			}
			items, err := iterItems(toPy(a.Args[0]))
			if err != nil {
				return nil, err
			}
			*l = append(*l, items...)
			return nil, nil
		}
	case "insert":
		m = func(a *exec.VarArgs) (any, error) {
			if len(a.Args) != 2 || !a.Args[0].IsInteger() {
				return nil, errors.New("insert expected an index and a value")
			}
			i := a.Args[0].Integer()
			n := len(*l)
			if i < 0 {
				i = max(0, n+i)
			}
			i = min(i, n)
			*l = append((*l)[:i], append(pyList{toPy(a.Args[1])}, (*l)[i:]...)...)
			return nil, nil
		}
	case "pop":
		m = func(a *exec.VarArgs) (any, error) {
			n := len(*l)
			i := n - 1
			if len(a.Args) == 1 {
				i = a.Args[0].Integer()
				if i < 0 {
					i += n
				}
			}
			if i < 0 || i >= n {
				return nil, errors.New("pop index out of range")
			}
			v := (*l)[i]
			*l = append((*l)[:i], (*l)[i+1:]...)
			return v, nil
		}
	case "index":
		m = func(a *exec.VarArgs) (any, error) {
			if len(a.Args) != 1 {
				return nil, errors.New("index expected 1 argument")
			}
			for i, e := range *l {
				if pyEqual(e, toPy(a.Args[0])) {
					return i, nil
				}
			}
			return nil, fmt.Errorf("%s is not in list", pyRepr(toPy(a.Args[0])))
		}
	case "count":
		m = func(a *exec.VarArgs) (any, error) {
			if len(a.Args) != 1 {
				return nil, errors.New("count expected 1 argument")
			}
			n := 0
			for _, e := range *l {
				if pyEqual(e, toPy(a.Args[0])) {
					n++
				}
			}
			return n, nil
		}
	default:
		return undefinedf("'list object' has no attribute '%s'", name), false
	}
	return exec.AsValue(m), true
}

// GetItem indexes the list; out of range is Undefined as in Jinja.
func (l *pyList) GetItem(key any) (*exec.Value, bool) {
	return seqItem("list", *l, key)
}

func (t pyTuple) String() string { return pyRepr(t) }

func (t pyTuple) GetAttribute(name string) (*exec.Value, bool) {
	return undefinedf("'tuple object' has no attribute '%s'", name), false
}

func (t pyTuple) GetItem(key any) (*exec.Value, bool) {
	return seqItem("tuple", t, key)
}

func seqItem(kind string, items []any, key any) (*exec.Value, bool) {
	i, ok := key.(int)
	if !ok {
		return undefinedf("'%s object' has no attribute '%s'", kind, pyStr(key)), false
	}
	j := i
	if j < 0 {
		j += len(items)
	}
	if j < 0 || j >= len(items) {
		return undefinedf("%s object has no element %d", kind, i), false
	}
	return exec.AsValue(items[j]), true
}

// iterItems lists what iterating x yields in Python.
func iterItems(x any) ([]any, error) {
	switch v := toPy(x).(type) {
	case *pyList:
		return append([]any(nil), (*v)...), nil
	case pyTuple:
		return append([]any(nil), v...), nil
	case pyDict:
		return *v.keyList(), nil
	case string:
		var out []any
		for _, r := range v {
			out = append(out, string(r))
		}
		return out, nil
	default:
		return nil, fmt.Errorf("'%s' object is not iterable", pyTypeName(v))
	}
}

func pyEqual(a, b any) bool {
	a, b = toPy(a), toPy(b)
	switch x := a.(type) {
	case int:
		switch y := b.(type) {
		case int:
			return x == y
		case float64:
			return float64(x) == y
		case bool:
			return x == boolInt(y)
		}
		return false
	case float64:
		switch y := b.(type) {
		case int:
			return x == float64(y)
		case float64:
			return x == y
		case bool:
			return x == float64(boolInt(y))
		}
		return false
	case bool:
		switch y := b.(type) {
		case bool:
			return x == y
		case int, float64:
			return pyEqual(boolInt(x), y)
		}
		return false
	case *pyList:
		y, ok := b.(*pyList)
		return ok && seqEqual(*x, *y)
	case pyTuple:
		y, ok := b.(pyTuple)
		return ok && seqEqual(x, y)
	case pyDict:
		y, ok := b.(pyDict)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !pyEqual(v.v, w.v) {
				return false
			}
		}
		return true
	}
	return a == b
}

func seqEqual(a, b []any) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !pyEqual(a[i], b[i]) {
			return false
		}
	}
	return true
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func pyTypeName(x any) string {
	switch toPy(x).(type) {
	case nil:
		return "NoneType"
	case string:
		return "str"
	case bool:
		return "bool"
	case int:
		return "int"
	case float64:
		return "float"
	case pyDict:
		return "dict"
	case *pyList:
		return "list"
	case pyTuple:
		return "tuple"
	}
	return fmt.Sprintf("%T", x)
}

// pyTruth is Python's bool(x).
func pyTruth(x any) bool {
	switch v := toPy(x).(type) {
	case nil:
		return false
	case bool:
		return v
	case int:
		return v != 0
	case float64:
		return v != 0
	case string:
		return v != ""
	case pyDict:
		return len(v) > 0
	case *pyList:
		return len(*v) > 0
	case pyTuple:
		return len(v) > 0
	}
	return true
}

// pyStr is Python's str(x).
func pyStr(x any) string {
	switch v := x.(type) {
	case string:
		return v
	case *exec.Value:
		if v == nil {
			return "None"
		}
		if v.Safe {
			return v.String()
		}
		return pyStr(v.Interface())
	}
	switch v := toPy(x).(type) {
	case nil:
		return "None"
	case string:
		return v
	case error:
		return v.Error()
	case fmt.Stringer:
		return v.String()
	default:
		return pyRepr(v)
	}
}

// pyRepr is Python's repr(x).
func pyRepr(x any) string {
	var b strings.Builder
	writeRepr(&b, toPy(x))
	return b.String()
}

func writeRepr(b *strings.Builder, x any) {
	switch v := x.(type) {
	case nil:
		b.WriteString("None")
	case bool:
		if v {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case int:
		b.WriteString(strconv.Itoa(v))
	case float64:
		b.WriteString(pyFloat(v))
	case string:
		b.WriteString(pyQuote(v))
	case pyDict:
		b.WriteByte('{')
		for i, k := range v.keys() {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(pyQuote(k))
			b.WriteString(": ")
			writeRepr(b, toPy(v[k].v))
		}
		b.WriteByte('}')
	case *pyList:
		b.WriteByte('[')
		for i, e := range *v {
			if i > 0 {
				b.WriteString(", ")
			}
			writeRepr(b, toPy(e))
		}
		b.WriteByte(']')
	case pyTuple:
		b.WriteByte('(')
		for i, e := range v {
			if i > 0 {
				b.WriteString(", ")
			}
			writeRepr(b, toPy(e))
		}
		if len(v) == 1 {
			b.WriteByte(',')
		}
		b.WriteByte(')')
	case fmt.Stringer:
		b.WriteString(v.String())
	default:
		fmt.Fprint(b, v)
	}
}

// pyQuote quotes s as Python's repr does: single quotes unless s contains
// a single quote and no double quote.
func pyQuote(s string) string {
	q := byte('\'')
	if strings.Contains(s, "'") && !strings.Contains(s, `"`) {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == rune(q) || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r < 0x7f || pyPrintable(r):
			b.WriteRune(r)
		case r <= 0xff:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r <= 0xffff:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			fmt.Fprintf(&b, `\U%08x`, r)
		}
	}
	b.WriteByte(q)
	return b.String()
}

// pyPrintable approximates Python's str.isprintable for one character.
func pyPrintable(r rune) bool {
	if r == ' ' {
		return true
	}
	return unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S)
}

// pyFloat formats f as Python's repr(float): the shortest round-tripping
// digits, positional notation for exponents in [-4, 16), always with a
// fractional part or an exponent.
func pyFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	s := strconv.FormatFloat(f, 'e', -1, 64) // d.ddde±XX
	mant, expStr, _ := strings.Cut(s, "e")
	exp, _ := strconv.Atoi(expStr)
	sign := ""
	if strings.HasPrefix(mant, "-") {
		sign, mant = "-", mant[1:]
	}
	digits := strings.Replace(mant, ".", "", 1)
	if exp < -4 || exp >= 16 {
		m := digits[:1]
		if len(digits) > 1 {
			m += "." + digits[1:]
		}
		es := "+"
		if exp < 0 {
			es, exp = "-", -exp
		}
		return fmt.Sprintf("%s%se%s%02d", sign, m, es, exp)
	}
	var out string
	switch {
	case exp < 0:
		out = "0." + strings.Repeat("0", -exp-1) + digits
	case exp+1 >= len(digits):
		out = digits + strings.Repeat("0", exp+1-len(digits)) + ".0"
	default:
		out = digits[:exp+1] + "." + digits[exp+1:]
	}
	return sign + out
}
