package compile

import (
	"fmt"
	"sort"
	"strings"
)

// Error is one compile problem, located as precisely as the input allows.
// Msg is complete on its own (it names the state and SLS where that helps);
// the other fields are for callers that want to act on them.
type Error struct {
	File string // state file relative to the state root ("" when none applies)
	Line int    // 1-based, 0 when unknown
	SLS  string
	ID   string
	Arg  string
	Msg  string
	Hint string // a suggestion, printed on its own line
	Err  error  // underlying error (a render error), if any
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Err != nil {
		// Render errors already carry their file, line and context.
		b.WriteString(e.Err.Error())
	} else {
		if e.File != "" {
			b.WriteString(e.File)
			if e.Line > 0 {
				fmt.Fprintf(&b, ":%d", e.Line)
			}
			b.WriteString(": ")
		}
		b.WriteString(e.Msg)
	}
	if e.Hint != "" {
		b.WriteString("\n    hint: ")
		b.WriteString(e.Hint)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Errors collects every problem found in one phase, so the user can fix
// them all at once. Compile functions return it whenever they fail on the
// input (never an empty one).
type Errors []*Error

func (es Errors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

// Unwrap lets errors.As find the individual *Error (and wrapped render
// errors).
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// errList accumulates errors during one compile.
type errList struct{ errs Errors }

func (l *errList) add(e *Error) { l.errs = append(l.errs, e) }

// err returns the collected errors, grouped by file (in order of first
// appearance) and sorted by line within a file, or nil.
func (l *errList) err() error {
	if len(l.errs) == 0 {
		return nil
	}
	rank := map[string]int{}
	for _, e := range l.errs {
		if _, ok := rank[e.File]; !ok {
			rank[e.File] = len(rank)
		}
	}
	sort.SliceStable(l.errs, func(i, j int) bool {
		a, b := l.errs[i], l.errs[j]
		if a.File != b.File {
			return rank[a.File] < rank[b.File]
		}
		return a.Line < b.Line
	})
	return l.errs
}

// suggest returns up to three candidates close to word, closest first, for
// "did you mean" hints.
func suggest(word string, candidates []string) []string {
	type scored struct {
		s string
		d int
	}
	limit := max(2, len(word)/3)
	var hits []scored
	for _, c := range candidates {
		d := levenshtein(strings.ToLower(word), strings.ToLower(c))
		if d <= limit || (len(word) >= 3 && strings.Contains(c, word)) {
			hits = append(hits, scored{c, d})
		}
	}
	sort.SliceStable(hits, func(i, j int) bool {
		if hits[i].d != hits[j].d {
			return hits[i].d < hits[j].d
		}
		return hits[i].s < hits[j].s
	})
	var out []string
	for i := 0; i < len(hits) && i < 3; i++ {
		out = append(out, hits[i].s)
	}
	return out
}

func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// didYouMean formats suggestions as a hint fragment ("" when none).
func didYouMean(word string, candidates []string) string {
	s := suggest(word, candidates)
	if len(s) == 0 {
		return ""
	}
	return "did you mean " + quoteJoin(s) + "?"
}

func quoteJoin(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = "'" + s + "'"
	}
	switch len(q) {
	case 1:
		return q[0]
	case 2:
		return q[0] + " or " + q[1]
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}
