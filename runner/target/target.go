// Package target implements Salt's targeting: globs, compound expressions
// (G@, I@, L@, E@, and/or/not) and the match types of top files.
package target

// Subject is what an expression is matched against.
type Subject struct {
	ID     string
	Grains map[string]any
	Pillar map[string]any
}

// Match reports whether expr, of match type kind ("compound" when empty,
// else glob, grain, pillar, list, pcre), matches s.
func Match(expr, kind string, s *Subject) (bool, error) {
	panic("target: not implemented yet")
}
