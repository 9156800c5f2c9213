package incus

import (
	"github.com/statectl/statectl/runner/module"
	"github.com/statectl/statectl/runner/secret"
)

// isSecretKey reports whether a config key holds a credential: the one rule
// of runner/secret, shared with the pillar view and reports.
func isSecretKey(key string) bool { return secret.Key(key) }

// masker collects the secret values seen while serving one call and
// removes them from any text that leaves the module.
type masker struct{ set secret.Set }

// newMasker seeds a masker with the call's secret arguments.
func newMasker(spec module.FuncSpec, args map[string]any) *masker {
	m := &masker{}
	for _, a := range spec.Args {
		if !a.Secret {
			continue
		}
		if v, ok := args[a.Name]; ok {
			m.set.AddLeaves(v)
		}
	}
	// Secret keys of config arguments are secrets too.
	if cfg, ok, _ := argConfig(args, "config"); ok {
		for k, v := range cfg {
			if v != nil && isSecretKey(k) {
				m.add(*v)
			}
		}
	}
	if k, ok, _ := argString(args, "key"); ok && isSecretKey(k) {
		if v, ok, _ := argString(args, "value"); ok {
			m.add(v)
		}
	}
	return m
}

// add registers a secret (values shorter than secret.MinLen are masked by
// key only).
func (m *masker) add(s string) { m.set.Add(s) }

// text masks every known secret in s.
func (m *masker) text(s string) string { return m.set.String(s) }

// err masks an error's message (see secret.Set.Err).
func (m *masker) err(err error) error { return m.set.Err(err) }

// maskChanges masks secret values anywhere in a changes tree.
func maskChanges(m *masker, v map[string]any) map[string]any {
	if v == nil {
		return nil
	}
	out, _ := m.set.Value(v).(map[string]any)
	return out
}

// maskValue returns the value to show for a config key in changes.
func maskValue(key string, v any) any {
	if v == nil || !isSecretKey(key) {
		return v
	}
	return secret.Mask
}
