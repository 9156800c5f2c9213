// Package report renders the one result model of a run ([]*state.Result per
// target, plus the engine's stop information) as Salt's highstate text, JSON
// or YAML, and maps runs to process exit codes.
package report

import (
	"fmt"
	"io"

	"github.com/statectl/statectl/runner/state"
)

// Run is what one target's run produced: the engine's result model,
// rendered as it is.
type Run = state.Run

// Format is an output format (--out).
type Format string

const (
	Human Format = "human"
	JSON  Format = "json"
	YAML  Format = "yaml"
)

// ParseFormat validates an --out value.
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case Human, JSON, YAML:
		return f, nil
	}
	return "", fmt.Errorf("unknown output format %q (known: human, json, yaml)", s)
}

// StateOutput is the human per-state layout (--state-output), as in Salt.
type StateOutput string

const (
	// Full prints every state as a block.
	Full StateOutput = "full"
	// Terse prints one line per state.
	Terse StateOutput = "terse"
	// Mixed is terse unless the state failed.
	Mixed StateOutput = "mixed"
	// Changes is terse unless the state changed or failed.
	Changes StateOutput = "changes"
)

// ParseStateOutput validates a --state-output value.
func ParseStateOutput(s string) (StateOutput, error) {
	switch m := StateOutput(s); m {
	case Full, Terse, Mixed, Changes:
		return m, nil
	}
	return "", fmt.Errorf("unknown state output %q (known: changes, full, mixed, terse)", s)
}

// Options control the human rendering.
type Options struct {
	StateOutput StateOutput // Full when empty
	// Color adds ANSI colours; the caller decides (terminal, --no-color).
	Color bool
}

// Write renders runs in format f. Human output prints one block per target
// in the order given; JSON and YAML print one document keyed by target.
func Write(w io.Writer, f Format, runs []*Run, opts Options) error {
	switch f {
	case JSON, YAML:
		return WriteData(w, f, resultsData(runs))
	case Human, "":
		for i, r := range runs {
			if i > 0 {
				if _, err := io.WriteString(w, "\n"); err != nil {
					return err
				}
			}
			if err := WriteHuman(w, r, opts); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("unknown output format %q", f)
}
