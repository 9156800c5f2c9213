package report

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/fatih/color"

	"github.com/statectl/statectl/runner/state"
)

// Salt's summary column width: labels and counts line up under it.
const lineMaxLen = 12

// palette holds the colours of one rendering; all are no-ops without colour.
type palette struct {
	green, cyan, red, yellow func(string) string
}

func newPalette(on bool) palette {
	mk := func(attr color.Attribute) func(string) string {
		if !on {
			return func(s string) string { return s }
		}
		c := color.New(attr)
		// fatih/color otherwise decides from the process's stdout; the
		// caller already decided.
		c.EnableColor()
		return func(s string) string {
			// Colour line by line so pagers and terminals that reset
			// attributes at newlines keep the colour.
			lines := strings.Split(s, "\n")
			for i, l := range lines {
				if l != "" {
					lines[i] = c.Sprint(l)
				}
			}
			return strings.Join(lines, "\n")
		}
	}
	return palette{
		green:  mk(color.FgGreen),
		cyan:   mk(color.FgCyan),
		red:    mk(color.FgRed),
		yellow: mk(color.FgYellow),
	}
}

// stateColor is the colour of a state's block: red failed, yellow would
// change (test mode), cyan changed, green unchanged.
func (p palette) stateColor(r *state.Result) func(string) string {
	switch {
	case r.Failed():
		return p.red
	case r.Result == nil:
		return p.yellow
	case r.Changed():
		return p.cyan
	}
	return p.green
}

// WriteHuman renders one target's run as Salt's highstate output: the
// target name, one block (or line) per state and the summary.
func WriteHuman(w io.Writer, r *Run, opts Options) error {
	p := newPalette(opts.Color)
	mode := opts.StateOutput
	if mode == "" {
		mode = Full
	}
	var b strings.Builder
	b.WriteString(p.cyan(r.Target+":") + "\n")
	for _, res := range r.Results {
		if terse(mode, res) {
			b.WriteString(p.stateColor(res)(terseLine(res)) + "\n")
			continue
		}
		b.WriteString(p.stateColor(res)(block(res)))
	}
	summary(&b, r, p)
	_, err := io.WriteString(w, b.String())
	return err
}

func terse(mode StateOutput, r *state.Result) bool {
	switch mode {
	case Terse:
		return true
	case Mixed:
		return !r.Failed()
	case Changes:
		return !r.Failed() && !r.Changed()
	}
	return false
}

// block is the full highstate block of one state.
func block(r *state.Result) string {
	var b strings.Builder
	b.WriteString("----------\n")
	fmt.Fprintf(&b, "          ID: %s\n", r.ID)
	fmt.Fprintf(&b, "    Function: %s.%s\n", r.Module, r.Function)
	if r.Name != r.ID {
		fmt.Fprintf(&b, "        Name: %s\n", r.Name)
	}
	fmt.Fprintf(&b, "      Result: %s\n", resultWord(r.Result))
	fmt.Fprintf(&b, "     Comment: %s\n", strings.ReplaceAll(r.Comment, "\n", "\n"+strings.Repeat(" ", 14)))
	fmt.Fprintf(&b, "     Started: %s\n", r.StartTime.Format(StartTimeLayout))
	fmt.Fprintf(&b, "    Duration: %.3f ms\n", durationMS(r.Duration))
	b.WriteString("     Changes:\n")
	if len(r.Changes) > 0 {
		nested(&b, Normalize(r.Changes), 14, "")
	}
	return b.String()
}

// terseLine is the one-line form of a state (Salt's state_output: terse).
func terseLine(r *state.Result) string {
	word := "Clean"
	switch {
	case r.Failed():
		word = "Failed"
	case r.Result == nil:
		word = "Differs"
	case r.Changed():
		word = "Changed"
	}
	return fmt.Sprintf("Name: %s - Function: %s.%s - Result: %s - Started: %s - Duration: %.3f ms",
		r.Name, r.Module, r.Function, word, r.StartTime.Format(StartTimeLayout), durationMS(r.Duration))
}

func resultWord(b *bool) string {
	switch {
	case b == nil:
		return "None"
	case *b:
		return "True"
	}
	return "False"
}

// Counts summarises a run.
type Counts struct {
	Succeeded int // result True or None
	Failed    int
	Changed   int // states with changes (in test mode: that would change)
	// WouldChange counts test-mode results with result None.
	WouldChange int
	Total       int
	Duration    time.Duration
}

// Count tallies r's results.
func Count(r *Run) Counts {
	var c Counts
	for _, res := range r.Results {
		c.Total++
		c.Duration += res.Duration
		if res.Failed() {
			c.Failed++
		} else {
			c.Succeeded++
		}
		// In test mode a None result is a pending change even when its
		// changes could not be predicted (a deferred plan): it counts as
		// changed, so "changed=" and "Would change:" agree.
		if res.Changed() || (r.Test && res.Result == nil) {
			c.Changed++
		}
		if res.Result == nil {
			c.WouldChange++
		}
	}
	return c
}

// summary writes Salt's "Summary for TARGET" table. Test mode adds a plain
// "Would change: N" line: Salt's "unchanged=" label there misleads.
func summary(b *strings.Builder, r *Run, p palette) {
	c := Count(r)
	rule := strings.Repeat("-", lineMaxLen)
	b.WriteString("\n" + p.cyan("Summary for "+r.Target+"\n"+rule) + "\n")
	ok := counts("Succeeded", c.Succeeded)
	if c.Changed > 0 {
		ok = p.green(ok) + " (" + p.cyan(fmt.Sprintf("changed=%d", c.Changed)) + ")"
	} else {
		ok = p.green(ok)
	}
	b.WriteString(ok + "\n")
	failColor := p.cyan
	if c.Failed > 0 {
		failColor = p.red
	}
	b.WriteString(failColor(counts("Failed", c.Failed)) + "\n")
	if r.Test {
		b.WriteString(p.yellow(counts("Would change", c.WouldChange)) + "\n")
	}
	if r.Failhard || r.Interrupted || r.NotRun > 0 {
		line := counts("Not run", r.NotRun)
		switch {
		case r.Failhard:
			line += " (stopped by failhard)"
		case r.Interrupted:
			line += " (interrupted)"
		}
		b.WriteString(p.red(line) + "\n")
	}
	b.WriteString(p.cyan(rule) + "\n")
	b.WriteString(p.cyan(fmt.Sprintf("Total states run: %*d", lineMaxLen-7, c.Total)) + "\n")
	ms := durationMS(c.Duration)
	unit := "ms"
	if ms > 999 {
		ms /= 1000
		unit = "s"
	}
	b.WriteString(p.cyan(fmt.Sprintf("Total run time: %*.3f %s", lineMaxLen-5, ms, unit)) + "\n")
}

func counts(label string, n int) string {
	w := lineMaxLen - len(label) - 2
	if w < 1 {
		w = 1
	}
	return fmt.Sprintf("%s: %*d", label, w, n)
}
