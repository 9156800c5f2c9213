package cli

import (
	"strings"

	"github.com/spf13/pflag"
)

// commands are the command names, for "did you mean" on a typo.
var commands = []string{"apply", "plan", "watch", "render", "pillar", "grains", "modules", "lab", "version", "help"}

// unknownCommand is the error for a command that does not exist, with the
// closest command names as the hint (Salt users also type state.apply).
func unknownCommand(cmd string) error {
	hint := "run 'statectl help' for the list of commands"
	switch {
	case strings.HasPrefix(cmd, "state.") || strings.Contains(cmd, "."):
		hint = "statectl commands are single words: 'statectl apply TARGET [SLS...]' is Salt's state.apply, 'statectl render TARGET SLS' its state.show_sls"
	default:
		var near []string
		for _, c := range commands {
			if editDistance(cmd, c) <= min(2, max(1, len(c)/2)) {
				near = append(near, "'"+c+"'")
			}
		}
		if len(near) > 0 {
			hint = "did you mean " + strings.Join(near, " or ") + "? " + hint
		}
	}
	return usageError(hint, "unknown command %q", cmd)
}

// flagError explains a flag that failed to parse: a misspelt flag gets the
// closest names, Salt's single-dash habit the double dash, a duration its
// unit.
func (a *app) flagError(err error) error {
	hint := "run 'statectl help' for usage"
	msg := err.Error()
	switch {
	case strings.Contains(msg, "missing unit in duration"):
		hint = "durations take a unit: 30s, 2m, 1h30m"
	case strings.HasPrefix(msg, "unknown shorthand flag: "):
		// -test: pflag reads it as -t -e -s -t.
		if _, word, ok := strings.Cut(msg, " in -"); ok && a.flags.Lookup(word) != nil {
			hint = "long flags take two dashes: --" + word
		}
	case strings.HasPrefix(msg, "unknown flag: --"):
		name := strings.TrimPrefix(msg, "unknown flag: --")
		var near []string
		a.flags.VisitAll(func(f *pflag.Flag) {
			if editDistance(name, f.Name) <= min(2, max(1, len(f.Name)/2)) {
				near = append(near, "--"+f.Name)
			}
		})
		if len(near) > 0 {
			hint = "did you mean " + strings.Join(near, " or ") + "? " + hint
		}
	}
	return usageError(hint, "%s", err)
}

// editDistance is the Levenshtein distance of two short words.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
