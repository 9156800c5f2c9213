package cli

import (
	"fmt"
	"io"

	"github.com/statectl/statectl/runner/report"
)

// runView renders the runs of a command that runs states (apply, plan,
// apply --plan): the human report of each target as soon as it is done,
// the structured formats as one document once every target ran. It is
// the commands' only way to print results.
type runView struct {
	a      *app
	format report.Format
	opts   report.RunOptions
	runs   []*report.Run
}

func (a *app) runView(format report.Format, opts report.RunOptions) *runView {
	if a.source != nil {
		opts.Source = a.source.report()
	}
	return &runView{a: a, format: format, opts: opts}
}

// add records a target's run, prints it if human, and returns its exit
// code.
func (v *runView) add(r *report.Run) (int, error) {
	if v.format == report.Human {
		if err := v.writeHuman(v.a.stdout, r, len(v.runs) == 0); err != nil {
			return 0, err
		}
	}
	v.runs = append(v.runs, r)
	return report.ExitCode(r, v.a.opts.detailed), nil
}

// writeHuman prints r's human report to w, after a blank line that
// separates it from the target before unless it is the first.
func (v *runView) writeHuman(w io.Writer, r *report.Run, first bool) error {
	if !first {
		fmt.Fprintln(w)
	}
	return report.WriteHuman(w, r, v.opts.Options)
}

// flush writes the structured document (nothing for human output or when
// no target ran).
func (v *runView) flush() error {
	if v.format == report.Human || len(v.runs) == 0 {
		return nil
	}
	return report.WriteRuns(v.a.stdout, v.format, v.runs, v.opts)
}
