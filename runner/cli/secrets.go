package cli

import (
	"github.com/statectl/statectl/runner/module"
	"github.com/statectl/statectl/runner/secret"
	"github.com/statectl/statectl/runner/state"
)

// secretSet masks, in what statectl prints or saves, the values the pillar
// keeps under keys naming a credential (secret.Key) and the arguments the
// engine learns are Secret. Modules mask the arguments they declare secret
// and reports mask credential-named keys, but a pillar secret interpolated
// into any other argument (a state's name, a notification's text) would
// otherwise reach the report in every format, `statectl render`, error
// messages and saved plans. The zero value masks nothing.
type secretSet struct{ secret.Set }

// addPillar collects the secrets of a target's pillar.
func (s *secretSet) addPillar(p map[string]any) { s.AddUnderKeys(p) }

func (s *secretSet) str(v string) string { return s.String(v) }

// value returns v with every secret masked in its strings and map keys.
func (s *secretSet) value(v any) any { return s.Value(v) }

// results masks the run's results in place.
func (s *secretSet) results(rs []*state.Result) {
	if s.Len() == 0 {
		return
	}
	for _, r := range rs {
		r.Tag, r.ID, r.Name, r.Comment = s.str(r.Tag), s.str(r.ID), s.str(r.Name), s.str(r.Comment)
		if r.Changes != nil {
			r.Changes, _ = s.value(r.Changes).(map[string]any)
		}
	}
}

// hook wraps a plan hook (a saved plan's recorder or checker) so that it
// sees the state and plan as they are printed: the plan file never holds a
// pillar secret, and a saved plan is compared with fresh plans masked the
// same way. The module still gets its own, unmasked plan.
func (s *secretSet) hook(h planCheck) planCheck {
	if h == nil {
		return nil
	}
	return func(st *state.State, p *module.Plan, prior []*state.Result) (*module.Plan, error) {
		if s.Len() == 0 {
			return h(st, p, prior)
		}
		ms := *st
		ms.ID, ms.Name = s.str(st.ID), s.str(st.Name)
		mp := *p
		mp.Comment = s.str(p.Comment)
		if p.Changes != nil {
			mp.Changes, _ = s.value(p.Changes).(map[string]any)
		}
		got, err := h(&ms, &mp, prior)
		if got == &mp {
			return p, err
		}
		return got, err
	}
}
