package engine

// addSecrets registers the values of every argument declared Secret, from
// every state: one state's comment may quote another's password (a join
// reads the trust password the settings state set).
func (e *executor) addSecrets() {
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
				e.secrets.AddLeaves(v)
			}
		}
	}
}

// changes returns a masked copy of m, never nil: the net behind the
// modules' own masking.
func (e *executor) changes(m map[string]any) map[string]any {
	if len(m) == 0 {
		return map[string]any{}
	}
	out, _ := e.secrets.Value(m).(map[string]any)
	return out
}
