package incus

import (
	"errors"
	"sort"
	"strings"

	"github.com/statectl/statectl/runner/module"
)

// mask replaces secret values in changes, comments and errors.
const mask = "******"

// secretKeys are server config keys whose values are credentials. Keys not
// listed are still masked when a word of their name says so (isSecretKey).
var secretKeys = map[string]bool{
	"core.trust_password":        true,
	"loki.auth.password":         true,
	"oidc.client.secret":         true,
	"openfga.api.token":          true,
	"network.ovn.client_key":     true,
	"storage.linstor.client_key": true,
	"acme.provider.environment":  true, // holds provider API credentials (KEY=value lines)
}

// isSecretKey reports whether a config key holds a credential: listed, or
// one of its words is password/secret/token/key (but not a *_expiry
// setting such as cluster.join_token_expiry, which is a duration).
func isSecretKey(key string) bool {
	if secretKeys[key] {
		return true
	}
	words := strings.FieldsFunc(strings.ToLower(key), func(r rune) bool { return r == '.' || r == '_' || r == '-' })
	if len(words) == 0 {
		return false
	}
	switch words[len(words)-1] {
	case "expiry", "expiration", "interval":
		return false
	}
	for _, w := range words {
		switch w {
		case "password", "passwd", "secret", "token", "key":
			return true
		}
	}
	return false
}

// masker collects the secret values seen while serving one call and
// removes them from any text that leaves the module.
type masker struct {
	secrets []string
}

// newMasker seeds a masker with the call's secret arguments.
func newMasker(spec module.FuncSpec, args map[string]any) *masker {
	m := &masker{}
	for _, a := range spec.Args {
		if !a.Secret {
			continue
		}
		if s, ok, _ := argString(args, a.Name); ok {
			m.add(s)
		}
	}
	// Secret-looking keys of config arguments are secrets too.
	for _, name := range []string{"config"} {
		if cfg, ok, _ := argConfig(args, name); ok {
			for k, v := range cfg {
				if v != nil && isSecretKey(k) {
					m.add(*v)
				}
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

// add registers a secret. Values shorter than 4 bytes are not masked in
// free text: replacing "1" or "on" everywhere would garble every message,
// and such values are masked by key in changes anyway.
func (m *masker) add(s string) {
	if len(s) < 4 {
		return
	}
	for _, have := range m.secrets {
		if have == s {
			return
		}
	}
	m.secrets = append(m.secrets, s)
	// Longest first, so a secret containing another is masked whole.
	sort.Slice(m.secrets, func(i, j int) bool { return len(m.secrets[i]) > len(m.secrets[j]) })
}

// text masks every known secret in s.
func (m *masker) text(s string) string {
	for _, sec := range m.secrets {
		s = strings.ReplaceAll(s, sec, mask)
	}
	return s
}

// err masks an error's message. A masked error deliberately does not wrap
// the original: its text holds the secret, and anyone unwrapping would
// print it.
func (m *masker) err(err error) error {
	if err == nil {
		return nil
	}
	msg := m.text(err.Error())
	if msg == err.Error() {
		return err
	}
	return errors.New(msg)
}

// value returns the value to show for a config key in changes.
func maskValue(key string, v any) any {
	if v == nil || !isSecretKey(key) {
		return v
	}
	return mask
}
