package target

import (
	"fmt"
	"math"
	"net/netip"
	"reflect"
	"regexp"
	"strconv"
	"strings"
)

// leaf is one matcher of an expression: a glob on the ID or an engine
// (G@, I@, ...) with its pattern.
type leaf struct {
	engine  byte // 0 for a bare glob on the ID
	pattern string
	delim   string
	// id is the compiled glob or regexp for ID matchers.
	id *regexp.Regexp
	// list holds the IDs of L@.
	list map[string]bool
	// prefix is the S@ network.
	prefix netip.Prefix
	// sub holds a compiled value pattern per delimiter-aligned suffix of
	// pattern, for G@/P@/I@/J@ (nil when that suffix does not compile).
	sub map[string]*regexp.Regexp
}

func newLeaf(engine byte, delim byte, pattern string) (*leaf, error) {
	l := &leaf{engine: engine, pattern: pattern, delim: string(delim)}
	if pattern == "" {
		return nil, fmt.Errorf("empty pattern")
	}
	var err error
	switch engine {
	case 0:
		l.id, err = globRegexp(pattern, false)
	case 'E':
		l.id, err = regexp.Compile(`^(?:` + pattern + `)$`)
		if err != nil {
			err = fmt.Errorf("invalid regular expression: %w", err)
		}
	case 'L':
		l.list = map[string]bool{}
		for _, id := range strings.Split(pattern, ",") {
			if id = strings.TrimSpace(id); id != "" {
				l.list[id] = true
			}
		}
	case 'S':
		err = l.parseCIDR()
	case 'G', 'I':
		err = l.compileSub(func(p string) (*regexp.Regexp, error) { return globRegexp(p, true) })
	case 'P', 'J':
		err = l.compileSub(func(p string) (*regexp.Regexp, error) { return regexp.Compile(`^(?is:` + p + `)$`) })
		if err != nil {
			err = fmt.Errorf("invalid regular expression: %w", err)
		}
	case 'N':
		err = fmt.Errorf("nodegroups (N@) are not supported; use a compound expression")
	case 'R':
		err = fmt.Errorf("range expressions (R@) are not supported")
	default:
		err = fmt.Errorf("unknown matcher %c@", engine)
	}
	if err != nil {
		return nil, err
	}
	return l, nil
}

func (l *leaf) parseCIDR() error {
	if a, err := netip.ParseAddr(l.pattern); err == nil {
		l.prefix = netip.PrefixFrom(a, a.BitLen())
		return nil
	}
	p, err := netip.ParsePrefix(l.pattern)
	if err != nil {
		return fmt.Errorf("not an IP address or CIDR network")
	}
	l.prefix = p.Masked()
	return nil
}

// compileSub compiles every suffix of the pattern that starts after a
// delimiter: subdict matching tries each split of "key:sub:value" in turn,
// so any of them may become the value pattern. Only the value after the
// first key must compile; other splits that do not compile simply never
// match (Salt logs and moves on).
func (l *leaf) compileSub(compile func(string) (*regexp.Regexp, error)) error {
	parts := strings.Split(l.pattern, l.delim)
	if len(parts) < 2 {
		return fmt.Errorf("expected KEY%sVALUE", l.delim)
	}
	l.sub = map[string]*regexp.Regexp{}
	for i := range parts {
		suffix := strings.Join(parts[i:], l.delim)
		re, err := compile(suffix)
		if err != nil && i == 1 {
			return err
		}
		l.sub[suffix] = re
	}
	return nil
}

func (l *leaf) idOnly() bool {
	return l.engine == 0 || l.engine == 'E' || l.engine == 'L'
}

func (l *leaf) eval(s *Subject) bool {
	switch l.engine {
	case 0, 'E':
		return l.id.MatchString(s.ID)
	case 'L':
		return l.list[s.ID]
	case 'S':
		return l.matchCIDR(s.Grains)
	case 'G', 'P':
		return l.subdictMatch(s.Grains, l.pattern)
	case 'I', 'J':
		return l.subdictMatch(s.Pillar, l.pattern)
	}
	return false
}

func (l *leaf) matchCIDR(grains map[string]any) bool {
	key := "ipv4"
	if l.prefix.Addr().Is6() {
		key = "ipv6"
	}
	addrs, ok := asList(grains[key])
	if !ok {
		return false
	}
	for _, v := range addrs {
		a, err := netip.ParseAddr(scalarString(v))
		if err == nil && l.prefix.Contains(a.Unmap()) {
			return true
		}
	}
	return false
}

// subdictMatch follows Salt's subdict_match: try the longest key first
// ("a:b:c" as key "a:b" value "c", then key "a" value "b:c"); a matched
// dict matches if the rest names a key in it; list values match if any
// element does.
func (l *leaf) subdictMatch(data map[string]any, expr string) bool {
	parts := strings.Split(expr, l.delim)
	if len(parts) < 2 || data == nil {
		return false
	}
	for idx := len(parts) - 1; idx > 0; idx-- {
		key := strings.Join(parts[:idx], l.delim)
		var (
			rest  string
			value any
			found bool
		)
		if key == "*" {
			rest, value, found = expr, data, true
		} else {
			rest = strings.Join(parts[idx:], l.delim)
			value, found = traverse(data, parts[:idx])
		}
		if !found {
			continue
		}
		if m, ok := asMap(value); ok {
			if l.dictMatch(m, rest) {
				return true
			}
			continue
		}
		if list, ok := asList(value); ok {
			for _, member := range list {
				if m, ok := asMap(member); ok && l.dictMatch(m, rest) {
					return true
				}
				if l.valueMatch(member, rest) {
					return true
				}
			}
			continue
		}
		if l.valueMatch(value, rest) {
			return true
		}
	}
	return false
}

func (l *leaf) dictMatch(m map[string]any, pattern string) bool {
	wildcard := strings.HasPrefix(pattern, "*"+l.delim)
	if wildcard {
		pattern = pattern[1+len(l.delim):]
	}
	if pattern == "*" {
		return true
	}
	if _, ok := m[pattern]; ok {
		return true
	}
	if l.subdictMatch(m, pattern) {
		return true
	}
	if !wildcard {
		return false
	}
	for _, v := range m {
		if sub, ok := asMap(v); ok {
			if l.dictMatch(sub, pattern) {
				return true
			}
		} else if list, ok := asList(v); ok {
			for _, item := range list {
				if l.valueMatch(item, pattern) {
					return true
				}
			}
		} else if l.valueMatch(v, pattern) {
			return true
		}
	}
	return false
}

func (l *leaf) valueMatch(v any, pattern string) bool {
	re := l.sub[pattern]
	return re != nil && re.MatchString(scalarString(v))
}

// traverse walks keys through maps and lists as Salt's
// traverse_dict_and_list: a numeric key indexes a list unless an element
// dict has that key; a non-numeric key looks into dicts inside a list.
func traverse(data map[string]any, keys []string) (any, bool) {
	var ptr any = data
	for _, k := range keys {
		if list, ok := asList(ptr); ok {
			next, found := embedded(list, k)
			if !found {
				i, err := strconv.Atoi(k)
				if err != nil {
					return nil, false
				}
				if i < 0 {
					i += len(list)
				}
				if i < 0 || i >= len(list) {
					return nil, false
				}
				next = list[i]
			}
			ptr = next
			continue
		}
		m, ok := asMap(ptr)
		if !ok {
			return nil, false
		}
		v, ok := m[k]
		if !ok {
			return nil, false
		}
		ptr = v
	}
	return ptr, true
}

func embedded(list []any, key string) (any, bool) {
	for _, item := range list {
		if m, ok := asMap(item); ok {
			if v, ok := m[key]; ok {
				return v, true
			}
		}
	}
	return nil, false
}

// asMap accepts any string-keyed map, so grains built by Go code
// (map[string]string, ...) match like YAML-decoded ones.
func asMap(v any) (map[string]any, bool) {
	switch m := v.(type) {
	case map[string]any:
		return m, true
	case nil:
		return nil, false
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Map || rv.Type().Key().Kind() != reflect.String {
		return nil, false
	}
	out := make(map[string]any, rv.Len())
	it := rv.MapRange()
	for it.Next() {
		out[it.Key().String()] = it.Value().Interface()
	}
	return out, true
}

func asList(v any) ([]any, bool) {
	switch l := v.(type) {
	case []any:
		return l, true
	case nil, string, []byte:
		return nil, false
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return nil, false
	}
	out := make([]any, rv.Len())
	for i := range out {
		out[i] = rv.Index(i).Interface()
	}
	return out, true
}

// scalarString renders a value as Python's str() would, so "G@virtual:true"
// and "G@num_cpus:4" match booleans and numbers (matching is
// case-insensitive, so True/true does not matter).
func scalarString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return "None"
	case bool:
		if x {
			return "True"
		}
		return "False"
	case float64:
		return pyFloat(x)
	case float32:
		return pyFloat(float64(x))
	}
	return fmt.Sprint(v)
}

func pyFloat(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e16 {
		return strconv.FormatFloat(f, 'f', 1, 64)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}
