package render

import (
	"strings"
	"testing"
)

// TestResolve11Shortcut checks that the first-byte shortcut of resolve11
// never decides differently from the patterns: on every string of up to
// three bytes from an alphabet that covers each pattern's first bytes
// (and some that start none), and on every implicit scalar PyYAML knows.
func TestResolve11Shortcut(t *testing.T) {
	words := []string{
		"yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE",
		"on", "On", "ON", "off", "Off", "OFF", "~", "null", "Null", "NULL", "", "<<", "=",
		"0b101", "-0b1_0", "0777", "+0_7", "0", "-19", "1_000", "0x1F", "-0xa_b", "190:20:30", "+1:5",
		"1.5", "-1.5e+3", ".5", ".5E-10", "190:20:30.15", "+.inf", "-.Inf", ".INF", ".nan", ".NaN", ".NAN",
		"2001-12-14", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10 -5", "2002-1-1T1:2:3Z",
		"falsey", "nulls", "yess", "test", "test.succeed_with_changes", "s0001", "require", "<<<", "==",
		"~~", "ok", "n", "y", "F", "offf", "1.2.3", "1a", "0x", "infinity", ".", "-", "+",
	}
	const alphabet = "yYnNtTfFoOelrsu0179+-._:xbeE~<= sZ"
	for _, a := range alphabet {
		words = append(words, string(a))
		for _, b := range alphabet {
			words = append(words, string(a)+string(b))
			for _, c := range alphabet {
				words = append(words, string(a)+string(b)+string(c))
			}
		}
	}
	for _, w := range words {
		for _, s := range []string{w, strings.ToUpper(w)} {
			if got, want := resolve11(s), resolve11Regexps(s); got != want {
				t.Errorf("resolve11(%q) = %s, want %s", s, got, want)
			}
		}
	}
}
