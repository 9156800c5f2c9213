package render

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/nikolalohinski/gonja/v2/builtins"
	"github.com/nikolalohinski/gonja/v2/exec"
	"github.com/nikolalohinski/gonja/v2/tokens"
)

// pyOperators are the binary operators whose gonja semantics differ from
// Python's; rewriteTree turns "a OP b" into "a | filter(b)".
var pyOperators = map[tokens.Type]string{
	tokens.Tilde:         "__concat",
	tokens.Power:         "__pow",
	tokens.FloorDivision: "__floordiv",
	tokens.Modulo:        "__mod",
}

func operatorFilters() map[string]exec.FilterFunction {
	bin := func(fn func(a, b any) (any, error)) exec.FilterFunction {
		return func(e *exec.Evaluator, in *exec.Value, p *exec.VarArgs) *exec.Value {
			if in.IsError() {
				return passErr(e, in)
			}
			if len(p.Args) != 1 {
				return exec.AsValue(errors.New("operator needs two operands"))
			}
			out, err := fn(toPy(in), toPy(p.Args[0]))
			if err != nil {
				return passErr(e, exec.AsValue(&templateError{msg: err.Error()}))
			}
			return exec.AsValue(out)
		}
	}
	return map[string]exec.FilterFunction{
		"__concat": bin(func(a, b any) (any, error) { return pyStr(a) + pyStr(b), nil }),
		"__pow": bin(func(a, b any) (any, error) {
			x, y, ints, err := numPair("**", a, b)
			if err != nil {
				return nil, err
			}
			if ints && y >= 0 {
				r := 1
				for i := 0; i < int(y); i++ {
					r *= int(x)
				}
				return r, nil
			}
			return math.Pow(x, y), nil
		}),
		"__floordiv": bin(func(a, b any) (any, error) {
			x, y, ints, err := numPair("//", a, b)
			if err != nil {
				return nil, err
			}
			if y == 0 {
				return nil, errors.New("integer division or modulo by zero")
			}
			if ints {
				return int(math.Floor(x / y)), nil
			}
			return math.Floor(x / y), nil
		}),
		"__mod": bin(func(a, b any) (any, error) {
			if s, ok := a.(string); ok {
				return pyFormat(s, b)
			}
			x, y, ints, err := numPair("%", a, b)
			if err != nil {
				return nil, err
			}
			if y == 0 {
				return nil, errors.New("integer division or modulo by zero")
			}
			r := math.Mod(x, y)
			if r != 0 && (r < 0) != (y < 0) {
				r += y
			}
			if ints {
				return int(r), nil
			}
			return r, nil
		}),
	}
}

// numPair reads two numeric operands; ints reports both were integers.
func numPair(op string, a, b any) (float64, float64, bool, error) {
	num := func(x any) (float64, bool, bool) {
		switch v := x.(type) {
		case int:
			return float64(v), true, true
		case bool:
			return float64(boolInt(v)), true, true
		case float64:
			return v, false, true
		}
		return 0, false, false
	}
	x, xi, ok1 := num(a)
	y, yi, ok2 := num(b)
	if !ok1 || !ok2 {
		return 0, 0, false, fmt.Errorf("unsupported operand type(s) for %s: '%s' and '%s'", op, pyTypeName(a), pyTypeName(b))
	}
	return x, y, xi && yi, nil
}

// pyFormat is Python's printf-style "fmt % args" for the common
// conversions (s, r, d, i, f, x, %).
func pyFormat(format string, args any) (string, error) {
	var list []any
	if t, ok := args.(pyTuple); ok {
		list = t
	} else {
		list = []any{args}
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		j := i + 1
		for j < len(format) && strings.IndexByte("-+ 0#.0123456789", format[j]) >= 0 {
			j++
		}
		if j >= len(format) {
			return "", errors.New("incomplete format")
		}
		spec, verb := format[i+1:j], format[j]
		i = j
		if verb == '%' {
			b.WriteByte('%')
			continue
		}
		if n >= len(list) {
			return "", errors.New("not enough arguments for format string")
		}
		a := list[n]
		n++
		switch verb {
		case 's':
			fmt.Fprintf(&b, "%"+spec+"s", pyStr(a))
		case 'r':
			fmt.Fprintf(&b, "%"+spec+"s", pyRepr(a))
		case 'd', 'i':
			x, _, _, err := numPair("%d", a, 0)
			if err != nil {
				return "", fmt.Errorf("%%d format: a real number is required, not %s", pyTypeName(a))
			}
			fmt.Fprintf(&b, "%"+spec+"d", int(x))
		case 'f', 'F', 'e', 'g':
			x, _, _, err := numPair("%f", a, 0)
			if err != nil {
				return "", fmt.Errorf("must be real number, not %s", pyTypeName(a))
			}
			if !strings.Contains(spec, ".") && verb != 'g' {
				spec += ".6"
			}
			fmt.Fprintf(&b, "%"+spec+string(verb), x)
		case 'x', 'X', 'o':
			x, _, _, err := numPair("%x", a, 0)
			if err != nil {
				return "", err
			}
			fmt.Fprintf(&b, "%"+spec+string(verb), int(x))
		default:
			return "", fmt.Errorf("unsupported format character '%c'", verb)
		}
	}
	if n < len(list) {
		return "", errors.New("not all arguments converted during string formatting")
	}
	return b.String(), nil
}

// strMethods are gonja's string methods with Python's replace (count is
// optional in Python, required in gonja).
func strMethods() *exec.MethodSet[string] {
	names := []string{"capitalize", "capwords", "casefold", "center", "count", "encode", "endswith",
		"expandtabs", "find", "format", "format_map", "isalnum", "isalpha", "isascii", "isdecimal",
		"isdigit", "islower", "isnumeric", "isprintable", "isspace", "istitle", "isupper", "join",
		"ljust", "lower", "lstrip", "partition", "removeprefix", "removesuffix", "rfind", "rjust",
		"rpartition", "rsplit", "rstrip", "split", "splitlines", "startswith", "strip", "swapcase",
		"title", "upper", "zfill"}
	m := map[string]exec.Method[string]{}
	for _, n := range names {
		if fn, ok := builtins.Methods.Str.Get(n); ok {
			m[n] = fn
		}
	}
	m["join"] = func(self string, _ *exec.Value, a *exec.VarArgs) (any, error) {
		if len(a.Args) != 1 {
			return nil, errors.New("join expected 1 argument")
		}
		items, err := iterItems(a.Args[0])
		if err != nil {
			return nil, err
		}
		parts := make([]string, len(items))
		for i, e := range items {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("sequence item %d: expected str instance, %s found", i, pyTypeName(e))
			}
			parts[i] = s
		}
		return strings.Join(parts, self), nil
	}
	m["replace"] = func(self string, _ *exec.Value, a *exec.VarArgs) (any, error) {
		if len(a.Args) < 2 || len(a.Args) > 3 {
			return nil, errors.New("replace expected 2 or 3 arguments")
		}
		count := -1
		if len(a.Args) == 3 {
			count = a.Args[2].Integer()
		}
		return strings.Replace(self, pyStr(toPy(a.Args[0])), pyStr(toPy(a.Args[1])), count), nil
	}
	return exec.NewMethodSet(m)
}

// fixStringLiterals re-encodes the string literals inside template tags
// so gonja reads them as Python does. gonja's parser decodes a literal
// with Go's rules, so Python's unknown escapes ('\d' in a regex) fail to
// parse, and a literal ending in an escaped backslash is mis-lexed. Each
// literal is decoded with Python's rules and written back using only
// escapes both agree on; line breaks are kept so line numbers do not move.
//
// It also drops a trailing comma before "}" and before the ")" of a call
// ({'a': 1,} and f(x,) are valid Jinja2 that gonja rejects), keeping it in
// a one-element tuple "(1,)".
func fixStringLiterals(src []byte) []byte {
	if !bytes.ContainsRune(src, '\\') && !bytes.Contains(src, []byte(",")) {
		return src
	}
	var out bytes.Buffer
	s := string(src)
	i := 0
	for i < len(s) {
		open := strings.Index(s[i:], "{")
		if open < 0 || i+open+1 >= len(s) {
			out.WriteString(s[i:])
			break
		}
		open += i
		kind := s[open+1]
		if kind != '{' && kind != '%' && kind != '#' {
			out.WriteString(s[i : open+1])
			i = open + 1
			continue
		}
		out.WriteString(s[i : open+2])
		i = open + 2
		closeTok := map[byte]string{'{': "}}", '%': "%}", '#': "#}"}[kind]
		if kind == '#' {
			end := strings.Index(s[i:], closeTok)
			if end < 0 {
				out.WriteString(s[i:])
				break
			}
			out.WriteString(s[i : i+end+2])
			i += end + 2
			continue
		}
		isRaw := kind == '%' && strings.HasPrefix(strings.TrimLeft(strings.TrimPrefix(s[i:], "-"), " \t"), "raw")
		var parens []bool // for each open "(": is it a call?
		// Copy the tag, re-encoding its string literals.
		for i < len(s) && !strings.HasPrefix(s[i:], closeTok) {
			c := s[i]
			switch c {
			case '(':
				prev := bytes.TrimRight(out.Bytes(), " \t\n")
				word := prev[bytes.LastIndexFunc(prev, func(r rune) bool { return r > 0x7f || !isIdentByte(byte(r)) })+1:]
				isCall := len(prev) > 0 && (len(word) > 0 && !pyKeywords[string(word)] ||
					bytes.HasSuffix(prev, []byte(")")) || bytes.HasSuffix(prev, []byte("]")))
				parens = append(parens, isCall)
			case ')':
				if len(parens) > 0 {
					parens = parens[:len(parens)-1]
				}
			case ',':
				rest := strings.TrimLeft(s[i+1:], " \t\n\r")
				if strings.HasPrefix(rest, "}") && !strings.HasPrefix(rest, "}}") ||
					strings.HasPrefix(rest, ")") && len(parens) > 0 && parens[len(parens)-1] {
					out.WriteByte(' ')
					i++
					continue
				}
			}
			if c != '\'' && c != '"' {
				out.WriteByte(c)
				i++
				continue
			}
			val, n, ok := pyStringLiteral(s[i:])
			if !ok {
				out.WriteString(s[i:])
				return out.Bytes()
			}
			out.WriteString(gonjaLiteral(val, c, s[i:i+n]))
			i += n
		}
		if isRaw {
			end := strings.Index(s[i:], "endraw")
			if end < 0 {
				out.WriteString(s[i:])
				break
			}
			out.WriteString(s[i : i+end])
			i += end
		}
	}
	return out.Bytes()
}

var pyKeywords = map[string]bool{"in": true, "if": true, "and": true, "or": true, "not": true,
	"else": true, "is": true, "elif": true, "set": true, "for": true, "do": true}

func isIdentByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// pyStringLiteral decodes the Python string literal at the start of s,
// returning its value and length.
func pyStringLiteral(s string) (string, int, bool) {
	q := s[0]
	var b strings.Builder
	for i := 1; i < len(s); {
		c := s[i]
		switch {
		case c == q:
			return b.String(), i + 1, true
		case c != '\\':
			b.WriteByte(c)
			i++
		case i+1 >= len(s):
			return "", 0, false
		default:
			e := s[i+1]
			simple := map[byte]string{'\\': "\\", '\'': "'", '"': "\"", 'n': "\n", 't': "\t", 'r': "\r",
				'a': "\a", 'b': "\b", 'f': "\f", 'v': "\v", '\n': ""}
			if r, ok := simple[e]; ok {
				b.WriteString(r)
				i += 2
				continue
			}
			hexLen := map[byte]int{'x': 2, 'u': 4, 'U': 8}[e]
			if hexLen > 0 && i+2+hexLen <= len(s) {
				if v, err := strconv.ParseUint(s[i+2:i+2+hexLen], 16, 32); err == nil {
					b.WriteRune(rune(v))
					i += 2 + hexLen
					continue
				}
			}
			if e >= '0' && e <= '7' {
				j := i + 1
				for j < len(s) && j < i+4 && s[j] >= '0' && s[j] <= '7' {
					j++
				}
				v, _ := strconv.ParseUint(s[i+1:j], 8, 32)
				b.WriteRune(rune(v))
				i = j
				continue
			}
			// Unknown escapes keep the backslash, as in Python.
			b.WriteByte('\\')
			i++
		}
	}
	return "", 0, false
}

// gonjaLiteral writes val as a literal gonja decodes back to val: quotes
// and backslashes as \x escapes, line breaks as in the original.
func gonjaLiteral(val string, q byte, orig string) string {
	if !strings.ContainsRune(orig, '\\') {
		return orig
	}
	var b strings.Builder
	b.WriteByte(q)
	for _, r := range val {
		switch {
		case r == '\\':
			b.WriteString(`\x5c`)
		case r == '\'':
			b.WriteString(`\x27`)
		case r == '"':
			b.WriteString(`\x22`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r == utf8.RuneError:
			b.WriteString(`\ufffd`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(q)
	// Keep the original's line count.
	b.WriteString(strings.Repeat("\n", strings.Count(orig, "\n")-strings.Count(b.String(), "\n")))
	return b.String()
}
