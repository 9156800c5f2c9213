package run

import (
	"fmt"
	"sort"
	"strings"

	"github.com/statectl/statectl/runner/module"
	"github.com/statectl/statectl/runner/report"
	"github.com/statectl/statectl/runner/state"
)

// minSecretLen is the shortest pillar secret masked by value: masking one to
// three characters wherever they appear would garble every report, and
// such a value protects nothing.
const minSecretLen = 4

// Secrets masks, in what statectl prints or saves, the values the pillar
// keeps under keys naming a credential (cluster_password, api:token ...).
// Modules mask the arguments they declare secret and report masks
// credential-named keys, but a pillar secret interpolated into any other
// argument (a state's name, a notification's text) would otherwise reach the
// report in every format, `statectl render`, error messages and saved plans.
// The zero value masks nothing.
type Secrets struct {
	seen map[string]bool
	r    *strings.Replacer
}

// AddPillar collects the secrets of a target's pillar.
func (s *Secrets) AddPillar(p map[string]any) {
	var walk func(v any, secret bool)
	walk = func(v any, secret bool) {
		switch t := v.(type) {
		case map[string]any:
			for k, x := range t {
				walk(x, secret || report.SecretKey(k))
			}
		case []any:
			for _, x := range t {
				walk(x, secret)
			}
		case nil, bool:
		default:
			if secret {
				s.add(fmt.Sprint(t))
			}
		}
	}
	walk(p, false)
}

func (s *Secrets) add(v string) {
	if len(v) < minSecretLen || s.seen[v] {
		return
	}
	if s.seen == nil {
		s.seen = map[string]bool{}
	}
	s.seen[v] = true
	// Longest first: strings.Replacer tries the old strings in argument
	// order, so a secret containing another is masked whole.
	all := make([]string, 0, len(s.seen))
	for k := range s.seen {
		all = append(all, k)
	}
	sort.Slice(all, func(i, j int) bool {
		if len(all[i]) != len(all[j]) {
			return len(all[i]) > len(all[j])
		}
		return all[i] < all[j]
	})
	pairs := make([]string, 0, 2*len(all))
	for _, k := range all {
		pairs = append(pairs, k, report.Mask)
	}
	s.r = strings.NewReplacer(pairs...)
}

func (s *Secrets) String(v string) string {
	if s.r == nil {
		return v
	}
	return s.r.Replace(v)
}

// Value returns v with every secret masked in its strings and map keys.
func (s *Secrets) Value(v any) any {
	if s.r == nil {
		return v
	}
	switch t := v.(type) {
	case string:
		return s.String(t)
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[s.String(k)] = s.Value(x)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = s.Value(x)
		}
		return out
	case nil, bool:
		return t
	}
	// A number is masked only when it is itself a secret (a numeric PIN).
	if s.seen[fmt.Sprint(v)] {
		return report.Mask
	}
	return v
}

// Results masks the run's results in place.
func (s *Secrets) Results(rs []*state.Result) {
	if s.r == nil {
		return
	}
	for _, r := range rs {
		r.Tag, r.ID, r.Name, r.Comment = s.String(r.Tag), s.String(r.ID), s.String(r.Name), s.String(r.Comment)
		if r.Changes != nil {
			r.Changes, _ = s.Value(r.Changes).(map[string]any)
		}
	}
}

// hook wraps a plan hook (a saved plan's recorder or checker) so that it
// sees the state and plan as they are printed: the plan file never holds a
// pillar secret, and a saved plan is compared with fresh plans masked the
// same way. The module still gets its own, unmasked plan.
func (s *Secrets) hook(h PlanCheck) PlanCheck {
	if h == nil {
		return nil
	}
	return func(st *state.State, p *module.Plan, prior []*state.Result) (*module.Plan, error) {
		if s.r == nil {
			return h(st, p, prior)
		}
		ms := *st
		ms.ID, ms.Name = s.String(st.ID), s.String(st.Name)
		mp := *p
		mp.Comment = s.String(p.Comment)
		if p.Changes != nil {
			mp.Changes, _ = s.Value(p.Changes).(map[string]any)
		}
		got, err := h(&ms, &mp, prior)
		if got == &mp {
			return p, err
		}
		return got, err
	}
}
