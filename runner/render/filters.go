package render

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/nikolalohinski/gonja/v2/exec"
)

// saltFilters are Salt's Jinja filters plus the internal ones rewriteTree
// inserts. They replace gonja's filters of the same name.
func saltFilters() map[string]exec.FilterFunction {
	return map[string]exec.FilterFunction{
		"__finalize": func(e *exec.Evaluator, in *exec.Value, _ *exec.VarArgs) *exec.Value {
			if in.IsError() {
				return passErr(e, in)
			}
			return exec.AsValue(pyStr(in))
		},
		"__list": convertFilter(func(x any) any { return toPy(x) }),
		"__dict": convertFilter(func(x any) any { return toPy(x) }),
		"__tuple": convertFilter(func(x any) any {
			if l, ok := toPy(x).(*pyList); ok {
				return pyTuple(*l)
			}
			return toPy(x)
		}),
		"default": filterDefault,
		"d":       filterDefault,
		"yaml_encode": simpleFilter(func(in any, _ *exec.VarArgs) (any, error) {
			return yamlEncode(in)
		}),
		"yaml_dquote": simpleFilter(func(in any, _ *exec.VarArgs) (any, error) {
			return yamlDquote(pyStr(in)), nil
		}),
		"yaml_squote": simpleFilter(func(in any, _ *exec.VarArgs) (any, error) {
			return yamlSquote(pyStr(in)), nil
		}),
		"json": simpleFilter(func(in any, a *exec.VarArgs) (any, error) {
			indent := -1
			if v := arg(a, 1, "indent"); v != nil && !v.IsNil() {
				indent = v.Integer()
			}
			return pyJSON(in, true, false, indent)
		}),
		"tojson": simpleFilter(func(in any, a *exec.VarArgs) (any, error) {
			indent := -1
			if v := arg(a, 0, "indent"); v != nil && !v.IsNil() {
				indent = v.Integer()
			}
			s, err := pyJSON(in, false, true, indent)
			r := strings.NewReplacer("<", `\u003c`, ">", `\u003e`, "&", `\u0026`, "'", `\u0027`)
			return r.Replace(s), err
		}),
		"yaml": simpleFilter(func(in any, a *exec.VarArgs) (any, error) {
			flow := true
			if v := arg(a, 0, "flow_style"); v != nil {
				flow = pyTruth(v)
			}
			return yamlDump(in, flow)
		}),
		"to_bool": simpleFilter(func(in any, _ *exec.VarArgs) (any, error) {
			switch v := in.(type) {
			case nil:
				return false, nil
			case bool:
				return v, nil
			case string:
				s := strings.ToLower(v)
				return s == "yes" || s == "1" || s == "true", nil
			case int:
				return v > 0, nil
			case float64:
				return false, nil
			}
			return pyTruth(in), nil
		}),
		"unique": simpleFilter(func(in any, _ *exec.VarArgs) (any, error) {
			items, err := iterItems(in)
			if err != nil {
				return nil, err
			}
			out := pyList{}
			for _, e := range items {
				if !listContains(out, e) {
					out = append(out, e)
				}
			}
			return &out, nil
		}),
		"regex_match":   regexFilter(true),
		"regex_search":  regexFilter(false),
		"regex_replace": filterRegexReplace,
		"regex_escape": simpleFilter(func(in any, _ *exec.VarArgs) (any, error) {
			return pyReEscape(pyStr(in)), nil
		}),
		"sequence": simpleFilter(func(in any, _ *exec.VarArgs) (any, error) {
			switch in.(type) {
			case *pyList, pyTuple, pyDict:
				return in, nil
			}
			return &pyList{in}, nil
		}),
		"skip": simpleFilter(func(any, *exec.VarArgs) (any, error) { return "", nil }),
		"load_yaml": simpleFilter(func(in any, _ *exec.VarArgs) (any, error) {
			return loadYAMLString("<load_yaml>", pyStr(in))
		}),
		"load_json": simpleFilter(func(in any, _ *exec.VarArgs) (any, error) {
			return loadJSONString("<load_json>", pyStr(in))
		}),
		"list": simpleFilter(func(in any, _ *exec.VarArgs) (any, error) {
			items, err := iterItems(in)
			if err != nil {
				return nil, err
			}
			l := pyList(items)
			return &l, nil
		}),
		"format": simpleFilter(func(in any, a *exec.VarArgs) (any, error) {
			args := make(pyTuple, len(a.Args))
			for i, v := range a.Args {
				args[i] = toPy(v)
			}
			return pyFormat(pyStr(in), args)
		}),
		"string": simpleFilter(func(in any, _ *exec.VarArgs) (any, error) { return pyStr(in), nil }),
	}
}

// simpleFilter adapts a function on template values to a gonja filter;
// an error in the input (e.g. an undefined variable) passes through.
func simpleFilter(fn func(in any, a *exec.VarArgs) (any, error)) exec.FilterFunction {
	return func(e *exec.Evaluator, in *exec.Value, a *exec.VarArgs) *exec.Value {
		if in.IsError() {
			return passErr(e, in)
		}
		out, err := fn(toPy(in), a)
		if err != nil {
			return passErr(e, exec.AsValue(&templateError{msg: err.Error()}))
		}
		return exec.AsValue(out)
	}
}

func convertFilter(fn func(any) any) exec.FilterFunction {
	return func(e *exec.Evaluator, in *exec.Value, _ *exec.VarArgs) *exec.Value {
		if in.IsError() {
			return passErr(e, in)
		}
		return exec.AsValue(fn(in))
	}
}

// passErr returns an error value a filter received. gonja flattens an
// error leaving a filter into a string, so the original (with its type:
// undefined, template error, error in an imported file) is remembered in
// the render state for the final error message.
func passErr(e *exec.Evaluator, in *exec.Value) *exec.Value {
	if v, ok := e.Environment.Context.Get(stateKey); ok {
		if st, ok := v.(*renderState); ok && len(st.causes) < 64 {
			if err, ok := in.Interface().(error); ok {
				st.causes = append(st.causes, err)
			}
		}
	}
	return in
}

// arg returns positional argument i or keyword name, nil if absent.
func arg(a *exec.VarArgs, i int, name string) *exec.Value {
	if v, ok := a.KwArgs[name]; ok {
		return v
	}
	if i < len(a.Args) {
		return a.Args[i]
	}
	return nil
}

// isUndefined reports whether a value is Jinja's Undefined: a lookup of a
// missing variable, attribute, key or index.
func isUndefined(v *exec.Value) bool {
	if !v.IsError() {
		return false
	}
	err, _ := v.Interface().(error)
	if findErr[*undefinedError](err) != nil {
		return true
	}
	msg := rootCause(err).Error()
	// gonja flattens a filter's error to text ("invalid call to filter
	// 'attr': 'dict object' has no attribute 'x'"), losing its type.
	return undefNameRe.MatchString(msg) || notFoundRe.MatchString(msg) || filterUndefRe.MatchString(msg)
}

var filterUndefRe = regexp.MustCompile(`^invalid call to filter '\w+': '\w+ object' has no attribute '[^']*'$`)

// filterDefault is Jinja's default(value, default_value=”, boolean=False):
// only Undefined (or, with boolean, a false value) is replaced; None is not.
func filterDefault(e *exec.Evaluator, in *exec.Value, a *exec.VarArgs) *exec.Value {
	def := exec.AsValue("")
	if v := arg(a, 0, "default_value"); v != nil {
		def = v
	}
	boolean := false
	if v := arg(a, 1, "boolean"); v != nil {
		boolean = pyTruth(v)
	}
	if isUndefined(in) {
		return def
	}
	if in.IsError() {
		return passErr(e, in)
	}
	if boolean && !pyTruth(in) {
		return def
	}
	return in
}

func saltTests() map[string]exec.TestFunction {
	return map[string]exec.TestFunction{
		"defined": func(_ *exec.Context, in *exec.Value, _ *exec.VarArgs) (bool, error) {
			if isUndefined(in) {
				return false, nil
			}
			if in.IsError() {
				return false, errors.New(in.Error())
			}
			return true, nil
		},
		"undefined": func(_ *exec.Context, in *exec.Value, _ *exec.VarArgs) (bool, error) {
			if isUndefined(in) {
				return true, nil
			}
			if in.IsError() {
				return false, errors.New(in.Error())
			}
			return false, nil
		},
		"none": func(_ *exec.Context, in *exec.Value, _ *exec.VarArgs) (bool, error) {
			if in.IsError() {
				return false, errors.New(in.Error())
			}
			return toPy(in) == nil, nil
		},
		"mapping": func(_ *exec.Context, in *exec.Value, _ *exec.VarArgs) (bool, error) {
			_, ok := toPy(in).(pyDict)
			return ok, nil
		},
		"sequence": func(_ *exec.Context, in *exec.Value, _ *exec.VarArgs) (bool, error) {
			switch toPy(in).(type) {
			case *pyList, pyTuple, pyDict, string:
				return true, nil
			}
			return false, nil
		},
		"iterable": func(_ *exec.Context, in *exec.Value, _ *exec.VarArgs) (bool, error) {
			switch toPy(in).(type) {
			case *pyList, pyTuple, pyDict, string:
				return true, nil
			}
			return false, nil
		},
		"string": func(_ *exec.Context, in *exec.Value, _ *exec.VarArgs) (bool, error) {
			_, ok := toPy(in).(string)
			return ok, nil
		},
		"list": func(_ *exec.Context, in *exec.Value, _ *exec.VarArgs) (bool, error) {
			// Salt's "list" test: a list or tuple.
			switch toPy(in).(type) {
			case *pyList, pyTuple:
				return true, nil
			}
			return false, nil
		},
		"match": func(_ *exec.Context, in *exec.Value, a *exec.VarArgs) (bool, error) {
			re, err := pyRegexp(a, 0)
			if err != nil {
				return false, err
			}
			loc := re.FindStringIndex(pyStr(toPy(in)))
			return loc != nil && loc[0] == 0, nil
		},
	}
}

// pyRegexp compiles the pattern at argument i with Python's ignorecase and
// multiline keyword flags.
func pyRegexp(a *exec.VarArgs, i int) (*regexp.Regexp, error) {
	p := arg(a, i, "rgx")
	if p == nil {
		return nil, errors.New("missing regular expression")
	}
	flags := ""
	if v := arg(a, i+1, "ignorecase"); v != nil && pyTruth(v) {
		flags += "i"
	}
	if v := arg(a, i+2, "multiline"); v != nil && pyTruth(v) {
		flags += "m"
	}
	pat := pyStr(toPy(p))
	if flags != "" {
		pat = "(?" + flags + ")" + pat
	}
	re, err := regexp.Compile(pat)
	if err != nil {
		return nil, fmt.Errorf("invalid regular expression %q: %v", pyStr(toPy(p)), err)
	}
	return re, nil
}

// regexFilter is Salt's regex_match (anchored at the start) or
// regex_search: the groups as a tuple, or None.
func regexFilter(anchored bool) exec.FilterFunction {
	return simpleFilter(func(in any, a *exec.VarArgs) (any, error) {
		re, err := pyRegexp(a, 0)
		if err != nil {
			return nil, err
		}
		s := pyStr(in)
		m := re.FindStringSubmatchIndex(s)
		if m == nil || anchored && m[0] != 0 {
			return nil, nil
		}
		groups := pyTuple{}
		for g := 1; g < len(m)/2; g++ {
			if m[2*g] < 0 {
				groups = append(groups, nil)
			} else {
				groups = append(groups, s[m[2*g]:m[2*g+1]])
			}
		}
		return groups, nil
	})
}

var pyBackref = regexp.MustCompile(`\\(\d+)|\\g<(\w+)>`)

var filterRegexReplace = simpleFilter(func(in any, a *exec.VarArgs) (any, error) {
	re, err := pyRegexp(&exec.VarArgs{Args: a.Args[:min(1, len(a.Args))], KwArgs: kwOnly(a, "rgx")}, 0)
	if err != nil {
		return nil, err
	}
	if len(a.Args) < 2 {
		if _, ok := a.KwArgs["val"]; !ok {
			return nil, errors.New("regex_replace needs a replacement")
		}
	}
	flagsArgs := &exec.VarArgs{Args: nil, KwArgs: map[string]*exec.Value{}}
	if v := arg(a, 2, "ignorecase"); v != nil {
		flagsArgs.KwArgs["ignorecase"] = v
	}
	if v := arg(a, 3, "multiline"); v != nil {
		flagsArgs.KwArgs["multiline"] = v
	}
	if len(flagsArgs.KwArgs) > 0 {
		flagsArgs.KwArgs["rgx"] = exec.AsValue(re.String())
		if re, err = pyRegexp(flagsArgs, 0); err != nil {
			return nil, err
		}
	}
	repl := pyStr(toPy(arg(a, 1, "val")))
	// Python's \1 and \g<name> become Go's ${1} and ${name}.
	repl = strings.ReplaceAll(repl, "$", "$$")
	repl = pyBackref.ReplaceAllStringFunc(repl, func(m string) string {
		sm := pyBackref.FindStringSubmatch(m)
		if sm[1] != "" {
			return "${" + sm[1] + "}"
		}
		return "${" + sm[2] + "}"
	})
	return re.ReplaceAllString(pyStr(in), repl), nil
})

func kwOnly(a *exec.VarArgs, name string) map[string]*exec.Value {
	out := map[string]*exec.Value{}
	if v, ok := a.KwArgs[name]; ok {
		out[name] = v
	}
	return out
}

// pyReEscape is Python 3.7+'s re.escape.
func pyReEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < 128 && !(r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			if strings.ContainsRune("()[]{}?*+-|^$\\.&~# \t\n\r\v\f", r) {
				b.WriteByte('\\')
			}
		}
		b.WriteRune(r)
	}
	return b.String()
}
