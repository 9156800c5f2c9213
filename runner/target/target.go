// Package target implements Salt's targeting: globs, compound expressions
// (G@, I@, L@, E@, and/or/not) and the match types of top files.
//
// Deliberate differences from Salt, chosen because a target that silently
// selects more nodes than intended is the costly mistake in cluster
// membership:
//   - regular expressions (E@, P@, J@, match: pcre) must match the whole
//     value; Salt's re.match only anchors at the start;
//   - a malformed expression is an error naming the position instead of a
//     logged "no match";
//   - parentheses need not be separated by spaces ("(G@os:Debian or web*)").
package target

import (
	"errors"
	"fmt"
	"sort"
)

// Subject is what an expression is matched against.
type Subject struct {
	ID     string
	Grains map[string]any
	Pillar map[string]any
}

// Match reports whether expr, of match type kind ("compound" when empty,
// else glob, grain, grain_pcre, pillar, pillar_pcre, list, pcre, ipcidr),
// matches s.
func Match(expr, kind string, s *Subject) (bool, error) {
	m, err := Compile(expr, kind)
	if err != nil {
		return false, err
	}
	return m.Match(s), nil
}

// Matcher is a parsed expression; parse once, match many subjects.
type Matcher struct {
	expr string
	root node
	// idOnly is true when no part of the expression looks at grains or
	// pillar, so callers can skip gathering them.
	idOnly bool
}

// Compile parses expr as match type kind (see Match). Every glob and
// regular expression in it is checked here, so a malformed expression fails
// before any subject is examined.
func Compile(expr, kind string) (*Matcher, error) {
	var (
		n   node
		err error
	)
	switch kind {
	case "", "compound":
		n, err = parseCompound(expr)
	default:
		eng, ok := matchKinds[kind]
		if !ok {
			return nil, fmt.Errorf("unknown match type %q (known: compound, glob, grain, grain_pcre, ipcidr, list, pcre, pillar, pillar_pcre)", kind)
		}
		n, err = newLeaf(eng, ':', expr)
		if err != nil {
			err = fmt.Errorf("invalid %s target %q: %w", kind, expr, err)
		}
	}
	if err != nil {
		return nil, err
	}
	return &Matcher{expr: expr, root: n, idOnly: n.idOnly()}, nil
}

// matchKinds maps top-file match types to compound engine letters.
var matchKinds = map[string]byte{
	"glob":        0,
	"grain":       'G',
	"grain_pcre":  'P',
	"pillar":      'I',
	"pillar_pcre": 'J',
	"list":        'L',
	"pcre":        'E',
	"ipcidr":      'S',
}

// Match reports whether the expression matches s. A nil s matches nothing.
func (m *Matcher) Match(s *Subject) bool {
	if s == nil {
		return false
	}
	return m.root.eval(s)
}

// IDOnly reports whether matching needs only the subject's ID.
func (m *Matcher) IDOnly() bool { return m.idOnly }

// String returns the expression as given.
func (m *Matcher) String() string { return m.expr }

// ErrNoMatch is wrapped by MatchTargets when nothing matched.
var ErrNoMatch = errors.New("no target matched")

// MatchTargets selects roster targets for the CLI: expr is a roster name, a
// glob or a compound expression. subjects supplies grains and pillar for a
// name; it is only called when the expression needs them, and may return
// nil (the name alone is then matched). The result is sorted; an empty
// selection is an error wrapping ErrNoMatch.
func MatchTargets(expr string, names []string, subjects func(name string) *Subject) ([]string, error) {
	sorted := append([]string(nil), names...)
	sort.Strings(sorted)
	sorted = dedupe(sorted)
	// An exact roster name wins even when it would parse differently (a
	// name is never an expression).
	for _, n := range sorted {
		if n == expr {
			return []string{n}, nil
		}
	}
	m, err := Compile(expr, "compound")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, n := range sorted {
		var s *Subject
		if !m.IDOnly() && subjects != nil {
			s = subjects(n)
		}
		if s == nil {
			s = &Subject{ID: n}
		} else if s.ID == "" {
			c := *s
			c.ID = n
			s = &c
		}
		if m.Match(s) {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return nil, noMatchError(fmt.Sprintf("failed to select targets: no roster target matches %q (roster: %d targets)", expr, len(sorted)))
	}
	return out, nil
}

// noMatchError is ErrNoMatch with the expression, without repeating "no
// target matched" in the message.
type noMatchError string

func (e noMatchError) Error() string        { return string(e) }
func (e noMatchError) Is(target error) bool { return target == ErrNoMatch }

func dedupe(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}
