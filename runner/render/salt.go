package render

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/nikolalohinski/gonja/v2/exec"
)

// saltFuncs is the "salt" template variable: salt['pillar.get'](...) and
// salt.pillar.get(...). Only functions that read the render's own data are
// provided; anything else is an error naming the function.
type saltFuncs struct {
	fns map[string]method
}

func newSaltFuncs(grains, pillar, opts pyDict) *saltFuncs {
	s := &saltFuncs{fns: map[string]method{}}
	s.fns["pillar.get"] = dataGet(pillar, true)
	s.fns["grains.get"] = dataGet(grains, false)
	s.fns["pillar.items"] = func(*exec.VarArgs) (any, error) { return pillar, nil }
	s.fns["grains.items"] = func(*exec.VarArgs) (any, error) { return grains, nil }
	s.fns["pillar.item"] = dataItem(pillar)
	s.fns["grains.item"] = dataItem(grains)
	s.fns["config.get"] = func(a *exec.VarArgs) (any, error) {
		key, def, delim, err := getArgs(a)
		if err != nil {
			return nil, fmt.Errorf("config.get: %w", err)
		}
		// Salt looks in the minion options, then grains, then pillar.
		for _, src := range []pyDict{opts, grains, pillar} {
			if v, ok := traverse(src, key, delim); ok {
				return v, nil
			}
		}
		return def, nil
	}
	return s
}

// GetItem implements salt['module.function'].
func (s *saltFuncs) GetItem(key any) (*exec.Value, bool) {
	name, _ := key.(string)
	if fn, ok := s.fns[name]; ok {
		return exec.AsValue(fn), true
	}
	// A function that fails when called: gonja reports a missing item
	// only as "... is not callable", which hides which function is
	// missing and what is there instead.
	err := &templateError{msg: fmt.Sprintf("salt function '%s' is not available in statectl templates (they have %s)", name, s.names())}
	return exec.AsValue(func(e *exec.Evaluator, _ *exec.VarArgs) (any, error) {
		passErr(e, exec.AsValue(err)) // keeps the message whole (see passErr)
		return nil, err
	}), true
}

// names lists the available functions for error messages.
func (s *saltFuncs) names() string {
	names := make([]string, 0, len(s.fns))
	for n := range s.fns {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// GetAttribute implements salt.module.function(...).
func (s *saltFuncs) GetAttribute(name string) (*exec.Value, bool) {
	return exec.AsValue(&saltModule{s: s, name: name}), true
}

func (s *saltFuncs) String() string { return "<salt functions>" }

type saltModule struct {
	s    *saltFuncs
	name string
}

func (m *saltModule) GetAttribute(fn string) (*exec.Value, bool) {
	return m.s.GetItem(m.name + "." + fn)
}
func (m *saltModule) GetItem(key any) (*exec.Value, bool) {
	return m.s.GetItem(m.name + "." + pyStr(key))
}
func (m *saltModule) String() string { return "<salt module " + m.name + ">" }

// getArgs reads (key, default="", delimiter=":") as Salt's get functions
// take them, positionally or by keyword.
func getArgs(a *exec.VarArgs) (key string, def any, delim string, err error) {
	def, delim = "", ":"
	if len(a.Args) < 1 {
		if k, ok := a.KwArgs["key"]; ok {
			key = pyStr(toPy(k))
		} else {
			return "", nil, "", fmt.Errorf("missing argument 'key'")
		}
	} else {
		key = pyStr(toPy(a.Args[0]))
	}
	if len(a.Args) >= 2 {
		def = toPy(a.Args[1])
	}
	if v, ok := a.KwArgs["default"]; ok {
		def = toPy(v)
	}
	if v, ok := a.KwArgs["delimiter"]; ok {
		delim = pyStr(toPy(v))
	}
	if len(a.Args) >= 4 {
		delim = pyStr(toPy(a.Args[3]))
	}
	return key, def, delim, nil
}

// dataGet is pillar.get / grains.get: "a:b:c" traversal with a default,
// "" when missing without one; pillar.get also takes merge=True.
func dataGet(data pyDict, allowMerge bool) method {
	return func(a *exec.VarArgs) (any, error) {
		key, def, delim, err := getArgs(a)
		if err != nil {
			return nil, err
		}
		merge := false
		if v, ok := a.KwArgs["merge"]; ok {
			merge = pyTruth(v)
		} else if len(a.Args) >= 3 {
			merge = pyTruth(a.Args[2])
		}
		mergeLists := false
		if v, ok := a.KwArgs["merge_nested_lists"]; ok {
			mergeLists = pyTruth(v)
		}
		if merge && allowMerge {
			switch d := def.(type) {
			case pyDict:
				if v, ok := traverse(data, key, delim); ok {
					if m, ok := v.(pyDict); ok {
						return dictUpdate(deepCopy(d).(pyDict), m, mergeLists), nil
					}
				}
			case *pyList:
				if v, ok := traverse(data, key, delim); ok {
					if l, ok := v.(*pyList); ok {
						// Salt filters against the default before extending,
						// so duplicates within the pillar list are kept.
						out := deepCopy(d).(*pyList)
						var add []any
						for _, e := range *l {
							if !listContains(*out, e) {
								add = append(add, e)
							}
						}
						*out = append(*out, add...)
						return out, nil
					}
				}
			}
		}
		if v, ok := traverse(data, key, delim); ok {
			return v, nil
		}
		return def, nil
	}
}

func dataItem(data pyDict) method {
	return func(a *exec.VarArgs) (any, error) {
		def := any("")
		if v, ok := a.KwArgs["default"]; ok {
			def = toPy(v)
		}
		delim := ":"
		if v, ok := a.KwArgs["delimiter"]; ok {
			delim = pyStr(toPy(v))
		}
		out := newDict(len(a.Args))
		for _, arg := range a.Args {
			k := pyStr(toPy(arg))
			if v, ok := traverse(data, k, delim); ok {
				out.set(k, v)
			} else {
				out.set(k, def)
			}
		}
		return out, nil
	}
}

// traverse mirrors salt.utils.data.traverse_dict_and_list: keys separated
// by delim walk dicts; in lists a number indexes and a name finds the first
// embedded dict holding it.
func traverse(data any, key, delim string) (any, bool) {
	if delim == "" {
		delim = ":"
	}
	ptr := toPy(data)
	for _, part := range strings.Split(key, delim) {
		switch cur := ptr.(type) {
		case *pyList:
			idx, err := strconv.Atoi(part)
			if err != nil {
				found := false
				for _, e := range *cur {
					if d, ok := e.(pyDict); ok {
						if v, ok := d.get(part); ok {
							ptr, found = v, true
							break
						}
					}
				}
				if !found {
					return nil, false
				}
				continue
			}
			if idx < 0 {
				idx += len(*cur)
			}
			if idx < 0 || idx >= len(*cur) {
				return nil, false
			}
			ptr = (*cur)[idx]
		case pyDict:
			v, ok := cur.get(part)
			if !ok {
				return nil, false
			}
			ptr = v
		default:
			return nil, false
		}
	}
	return ptr, true
}

// dictUpdate mirrors salt.utils.dictupdate.update: nested dicts merge,
// anything else is replaced (lists are unioned with mergeLists); keys new
// to dst are added in src's order.
func dictUpdate(dst, src pyDict, mergeLists bool) pyDict {
	for _, k := range src.keys() {
		v := src[k].v
		dv, ok := dst.get(k)
		if ok {
			if dm, ok := dv.(pyDict); ok {
				if sm, ok := v.(pyDict); ok {
					dst.set(k, dictUpdate(dm, sm, mergeLists))
					continue
				}
			}
			if mergeLists {
				if dl, ok := dv.(*pyList); ok {
					if sl, ok := v.(*pyList); ok {
						out := append(pyList{}, *dl...)
						for _, e := range *sl {
							if !listContains(out, e) {
								out = append(out, e)
							}
						}
						dst.set(k, &out)
						continue
					}
				}
			}
		}
		dst.set(k, v)
	}
	return dst
}

func listContains(l []any, x any) bool {
	for _, e := range l {
		if pyEqual(e, x) {
			return true
		}
	}
	return false
}

func deepCopy(x any) any {
	switch v := toPy(x).(type) {
	case pyDict:
		c := make(pyDict, len(v))
		for k, e := range v {
			c[k] = dictEntry{seq: e.seq, v: deepCopy(e.v)}
		}
		return c
	case *pyList:
		c := make(pyList, len(*v))
		for i, e := range *v {
			c[i] = deepCopy(e)
		}
		return &c
	default:
		return v
	}
}

// raiseFunc is Salt's `raise` template global ({{ raise('message') }}):
// the render fails with the message as written, so a template (the
// shipped states' pillar checks) can refuse its input by name.
func raiseFunc(e *exec.Evaluator, a *exec.VarArgs) (any, error) {
	msg := "raise() called"
	if len(a.Args) > 0 {
		msg = pyStr(toPy(a.Args[0]))
	}
	err := &templateError{msg: msg}
	passErr(e, exec.AsValue(err)) // keeps the message whole (see passErr)
	return nil, err
}
