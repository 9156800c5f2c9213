package engine

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// mask replaces a secret value in results.
const mask = "******"

// secrets collects the values of every argument declared Secret, from every
// state: one state's comment may quote another's password (a join reads the
// trust password the settings state set).
func (e *executor) secrets() []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range e.c.States {
		f := e.lookup(s)
		if !f.ok {
			continue
		}
		for _, a := range f.spec.Args {
			if !a.Secret {
				continue
			}
			if v, ok := s.Args[a.Name]; ok {
				leaves(v, func(x string) {
					if x != "" && !seen[x] {
						seen[x] = true
						out = append(out, x)
					}
				})
			}
		}
	}
	return out
}

// leaves calls fn with the text of every scalar in v.
func leaves(v any, fn func(string)) {
	switch t := v.(type) {
	case nil:
	case string:
		fn(t)
	case []any:
		for _, x := range t {
			leaves(x, fn)
		}
	case []string:
		for _, x := range t {
			fn(x)
		}
	case map[string]any:
		for _, x := range t {
			leaves(x, fn)
		}
	default:
		fn(fmt.Sprint(t))
	}
}

// scrubber masks secret values in results, a safety net behind the modules'
// own masking. A nil scrubber masks nothing.
type scrubber struct {
	r     *strings.Replacer
	exact map[string]bool
}

func newScrubber(secrets []string) *scrubber {
	if len(secrets) == 0 {
		return nil
	}
	// Longest first: the Replacer tries old strings in argument order, so a
	// secret containing another is masked whole.
	sort.Slice(secrets, func(i, j int) bool {
		if len(secrets[i]) != len(secrets[j]) {
			return len(secrets[i]) > len(secrets[j])
		}
		return secrets[i] < secrets[j]
	})
	pairs := make([]string, 0, 2*len(secrets))
	exact := make(map[string]bool, len(secrets))
	for _, s := range secrets {
		pairs = append(pairs, s, mask)
		exact[s] = true
	}
	return &scrubber{r: strings.NewReplacer(pairs...), exact: exact}
}

func (sc *scrubber) string(s string) string {
	if sc == nil {
		return s
	}
	return sc.r.Replace(s)
}

// changes returns a scrubbed copy of m, never nil.
func (sc *scrubber) changes(m map[string]any) map[string]any {
	if len(m) == 0 {
		return map[string]any{}
	}
	if sc == nil {
		return m
	}
	return sc.value(m).(map[string]any)
}

func (sc *scrubber) value(v any) any {
	switch t := v.(type) {
	case nil, bool:
		return t
	case string:
		return sc.r.Replace(t)
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[sc.r.Replace(k)] = sc.value(x)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = sc.value(x)
		}
		return out
	case []string:
		out := make([]string, len(t))
		for i, x := range t {
			out[i] = sc.r.Replace(x)
		}
		return out
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64,
		float32, float64, json.Number:
		// A number is masked only when it is itself a secret (a numeric PIN),
		// otherwise masking its digits would garble ordinary values.
		if sc.exact[fmt.Sprint(t)] {
			return mask
		}
		return t
	}
	// Other types (structs, typed maps) are normalised through JSON so that
	// no shape a module returns escapes the net.
	b, err := json.Marshal(v)
	if err != nil {
		return sc.r.Replace(fmt.Sprint(v))
	}
	var generic any
	if err := json.Unmarshal(b, &generic); err != nil {
		return sc.r.Replace(string(b))
	}
	return sc.value(generic)
}
