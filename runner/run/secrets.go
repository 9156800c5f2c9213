package run

import (
	"github.com/statectl/statectl/runner/module"
	"github.com/statectl/statectl/runner/secret"
	"github.com/statectl/statectl/runner/state"
)

// Secrets masks, in what statectl prints or saves, the values the pillar
// keeps under keys naming a credential (secret.Key) and the arguments the
// engine learns are Secret (the engine adds them to the same set). Modules
// mask the arguments they declare secret and reports mask credential-named
// keys, but a pillar secret interpolated into any other argument (a state's
// name, a notification's text) would otherwise reach the report in every
// format, `statectl render`, error messages and saved plans. The zero value
// masks nothing.
type Secrets struct{ secret.Set }

// AddPillar collects the secrets of a target's pillar.
func (s *Secrets) AddPillar(p map[string]any) { s.AddUnderKeys(p) }

// Results masks the run's results in place.
func (s *Secrets) Results(rs []*state.Result) {
	if s.Len() == 0 {
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
		if s.Len() == 0 {
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
