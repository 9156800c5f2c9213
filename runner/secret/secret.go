// Package secret is statectl's one notion of a secret: which keys name one
// (Key), the one mask shown in their place (Mask), and the values seen so
// far that must never leave the program in clear (Set). Reports, errors,
// logs, renders, the pillar view and plan files all mask through it, so a
// key is secret in every view or in none.
package secret

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"unicode"

	"github.com/statectl/statectl/runner/plain"
)

// Mask replaces a secret wherever statectl prints or saves it.
const Mask = "******"

// MinLen is the shortest value a Set masks by value: masking one to three
// characters wherever they appear ("1", "on", "abc") would garble every
// report and protects nothing. Such values are still masked by key.
const MinLen = 4

// secretWords are the words of a key name that make it secret. Checked
// against Incus's credential keys (core.trust_password, loki.auth.password,
// openfga.api.token, network.ovn.client_key, oidc.client.secret) and the
// pillar spellings users write (db_pass, api_key, clusterPassword,
// user.apikey).
var secretWords = map[string]bool{
	"password": true, "passwords": true, "passwd": true, "pass": true, "pwd": true,
	"secret": true, "secrets": true, "token": true, "tokens": true,
	"key": true, "apikey": true, "credential": true, "credentials": true, "private": true,
}

// notSecretLast are last words that make a key describe a secret rather
// than hold one: cluster.join_token_expiry is a duration, token_file and
// client_key_path are paths.
var notSecretLast = map[string]bool{
	"expiry": true, "expiration": true, "interval": true, "ttl": true, "file": true, "path": true,
}

// secretKeys are Incus server keys holding credentials whose names do not
// say so.
var secretKeys = map[string]bool{
	"acme.provider.environment": true, // provider API credentials, KEY=value lines
}

// Key reports whether a key (a pillar key, a config key, an argument name)
// names a secret: one of its words, split on _ . - : and spaces and at
// camelCase boundaries, is a credential word (password, pass, pwd, secret,
// token, key, apikey, credential(s), private ...), unless its last word is
// expiry, expiration, interval, ttl, file or path. "key" alone is not one:
// it names a key (incus.settings_present's key argument, {key:, value:}
// pairs); its value is masked when the key it names is secret (MaskTree).
func Key(name string) bool {
	if secretKeys[strings.ToLower(name)] {
		return true
	}
	words := Words(name)
	n := len(words)
	if n == 0 || notSecretLast[words[n-1]] || (n == 1 && words[0] == "key") {
		return false
	}
	for _, w := range words {
		if secretWords[w] {
			return true
		}
	}
	return false
}

// Words splits a key name into lower-case words: at _ . - : and spaces, and
// at camelCase boundaries (clusterPassword, APIKey -> api key).
func Words(name string) []string {
	var words []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			words = append(words, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	rs := []rune(name)
	for i, r := range rs {
		switch {
		case r == '_' || r == '.' || r == '-' || r == ':' || unicode.IsSpace(r):
			flush()
			continue
		case unicode.IsUpper(r) && len(cur) > 0:
			prev := cur[len(cur)-1]
			nextLower := i+1 < len(rs) && unicode.IsLower(rs[i+1])
			if unicode.IsLower(prev) || unicode.IsDigit(prev) || (unicode.IsUpper(prev) && nextLower) {
				flush()
			}
		}
		cur = append(cur, r)
	}
	flush()
	return words
}

// MaskTree returns a copy of v in which every value under a secret key
// (Key) is Mask, as is the value of a {key: K, value: V} pair whose K is
// secret. It is the net for data printed whole, where nothing declares what
// is secret: the pillar view, compiled states, changes. v is not modified;
// types other than map[string]any and []any are read through JSON.
func MaskTree(v any) any {
	switch t := v.(type) {
	case nil, string, bool, int, int64, float64:
		return v
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			if Key(k) && e != nil {
				out[k] = Mask
				continue
			}
			out[k] = MaskTree(e)
		}
		if k, ok := t["key"].(string); ok && Key(k) && t["value"] != nil {
			out["value"] = Mask
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = MaskTree(e)
		}
		return out
	}
	g, ok := plain.Of(v)
	if !ok {
		return v
	}
	return MaskTree(g)
}

// A Set holds secret values seen so far (arguments declared secret, pillar
// values under secret keys, join tokens) and masks them in any text or
// value. It is safe for concurrent use. The zero value is an empty set, and
// a nil *Set masks nothing by value.
type Set struct {
	mu   sync.Mutex
	vals map[string]bool
	r    *strings.Replacer // built on demand; nil after an Add
}

// Add registers a secret value (ignored if shorter than MinLen).
func (s *Set) Add(v string) {
	if s == nil || len(v) < MinLen {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.vals[v] {
		return
	}
	if s.vals == nil {
		s.vals = map[string]bool{}
	}
	s.vals[v] = true
	s.r = nil
}

// AddLeaves registers every scalar of v (the value of an argument declared
// secret, whatever its shape). Booleans are not secrets.
func (s *Set) AddLeaves(v any) {
	walk(v, false, func(x string, _ bool) { s.Add(x) })
}

// AddUnderKeys registers the scalars of v that sit under a secret key
// (Key) at any depth: the secrets of a pillar.
func (s *Set) AddUnderKeys(v any) {
	walk(v, true, func(x string, under bool) {
		if under {
			s.Add(x)
		}
	})
}

// Len is the number of values registered.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.vals)
}

func (s *Set) has(v string) bool {
	if s == nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.vals[v]
}

func (s *Set) replacer() *strings.Replacer {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.r == nil && len(s.vals) > 0 {
		all := make([]string, 0, len(s.vals))
		for v := range s.vals {
			all = append(all, v)
		}
		// Longest first: the Replacer tries old strings in argument order
		// at each position, so a secret containing another is masked whole.
		sort.Slice(all, func(i, j int) bool {
			if len(all[i]) != len(all[j]) {
				return len(all[i]) > len(all[j])
			}
			return all[i] < all[j]
		})
		pairs := make([]string, 0, 2*len(all))
		for _, v := range all {
			pairs = append(pairs, v, Mask)
		}
		s.r = strings.NewReplacer(pairs...)
	}
	return s.r
}

// String masks every registered value in t.
func (s *Set) String(t string) string {
	if r := s.replacer(); r != nil {
		return r.Replace(t)
	}
	return t
}

// Value returns v with every registered value masked in its strings and
// map keys. A number is masked only when it is itself a secret (a numeric
// PIN): masking its digits would garble ordinary values. Other types
// (structs, typed maps) are read through JSON so that no shape escapes.
// With nothing registered, v is returned as is.
func (s *Set) Value(v any) any {
	r := s.replacer()
	if r == nil {
		return v
	}
	return s.value(r, v)
}

func (s *Set) value(r *strings.Replacer, v any) any {
	switch t := v.(type) {
	case nil, bool:
		return t
	case string:
		return r.Replace(t)
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[r.Replace(k)] = s.value(r, x)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = s.value(r, x)
		}
		return out
	case []string:
		out := make([]string, len(t))
		for i, x := range t {
			out[i] = r.Replace(x)
		}
		return out
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64,
		float32, float64, json.Number:
		if s.has(fmt.Sprint(t)) {
			return Mask
		}
		return t
	}
	g, ok := plain.Of(v)
	if !ok {
		return r.Replace(fmt.Sprint(v))
	}
	return s.value(r, g)
}

// MaskTree masks values under secret keys (the package's MaskTree) and
// then every registered value.
func (s *Set) MaskTree(v any) any { return s.Value(MaskTree(v)) }

// Err returns err with every registered value masked in its message; err
// itself when nothing is masked. The masked error unwraps to the masked
// versions of the errors it wrapped, so errors.Is still finds sentinels
// such as context.Canceled (whose text holds no secret), while an error
// whose own text holds a secret can no longer be reached and printed.
func (s *Set) Err(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	masked := s.String(msg)
	if masked == msg {
		return err
	}
	switch u := err.(type) {
	case interface{ Unwrap() []error }:
		errs := u.Unwrap()
		out := make([]error, 0, len(errs))
		for _, e := range errs {
			out = append(out, s.Err(e))
		}
		return &maskedJoin{msg: masked, errs: out}
	}
	return &maskedErr{msg: masked, err: s.Err(errors.Unwrap(err))}
}

type maskedErr struct {
	msg string
	err error
}

func (e *maskedErr) Error() string { return e.msg }
func (e *maskedErr) Unwrap() error { return e.err }

type maskedJoin struct {
	msg  string
	errs []error
}

func (e *maskedJoin) Error() string   { return e.msg }
func (e *maskedJoin) Unwrap() []error { return e.errs }

// walk calls fn with the text of every non-boolean scalar of v and whether
// it sits under a secret key (only tracked when byKey).
func walk(v any, byKey bool, fn func(string, bool)) {
	var rec func(v any, under bool)
	rec = func(v any, under bool) {
		switch t := v.(type) {
		case nil, bool:
		case string:
			fn(t, under)
		case map[string]any:
			for k, x := range t {
				rec(x, under || (byKey && Key(k)))
			}
			if k, ok := t["key"].(string); ok && byKey && Key(k) {
				rec(t["value"], true)
			}
		case []any:
			for _, x := range t {
				rec(x, under)
			}
		case []string:
			for _, x := range t {
				fn(x, under)
			}
		case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64,
			float32, float64, json.Number:
			fn(fmt.Sprint(t), under)
		default:
			if g, ok := plain.Of(v); ok {
				rec(g, under)
			} else {
				fn(fmt.Sprint(v), under)
			}
		}
	}
	rec(v, false)
}
