package target

import (
	"regexp"
	"strings"
	"unicode"
)

// globRegexp translates a shell glob with Python fnmatch semantics ("*"
// crosses "/", "[!x]" negates, an unclosed "[" is literal, reversed ranges
// are dropped) into an anchored regular expression. Go's path.Match differs
// on "/" and "\", so it cannot stand in for fnmatch.
func globRegexp(pat string, fold bool) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("^(?s")
	if fold {
		b.WriteString("i")
	}
	b.WriteString(":")
	rs := []rune(pat)
	for i := 0; i < len(rs); i++ {
		c := rs[i]
		switch c {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		case '[':
			j := i + 1
			if j < len(rs) && rs[j] == '!' {
				j++
			}
			if j < len(rs) && rs[j] == ']' {
				j++
			}
			for j < len(rs) && rs[j] != ']' {
				j++
			}
			if j >= len(rs) {
				b.WriteString(`\[`)
				continue
			}
			b.WriteString(globClass(rs[i+1 : j]))
			i = j
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString(")$")
	return regexp.Compile(b.String())
}

// globClass renders the inside of a "[...]" glob set as a regexp class.
func globClass(set []rune) string {
	negate := len(set) > 0 && set[0] == '!'
	if negate {
		set = set[1:]
	}
	var body strings.Builder
	for k := 0; k < len(set); k++ {
		if k+2 < len(set) && set[k+1] == '-' {
			lo, hi := set[k], set[k+2]
			if lo <= hi {
				body.WriteString(classRune(lo) + "-" + classRune(hi))
			}
			k += 2
			continue
		}
		body.WriteString(classRune(set[k]))
	}
	switch {
	case body.Len() == 0 && negate:
		return "."
	case body.Len() == 0:
		return `[^\x00-\x{10FFFF}]` // matches nothing, as Python's (?!)
	case negate:
		return "[^" + body.String() + "]"
	default:
		return "[" + body.String() + "]"
	}
}

func classRune(r rune) string {
	if r < unicode.MaxASCII && (unicode.IsPunct(r) || unicode.IsSymbol(r)) {
		return `\` + string(r)
	}
	return string(r)
}
