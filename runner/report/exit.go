package report

// Exit codes, Salt's plus one for CI: 3 says "succeeded and changed" (or,
// in test mode, "would change") when --detailed-exitcode asks for it.
const (
	ExitOK      = 0
	ExitError   = 1 // usage, render or compile error: nothing ran
	ExitFailed  = 2 // a state failed
	ExitChanged = 3 // only with --detailed-exitcode
	ExitPillar  = 5 // pillar failed to render: nothing ran
)

// ExitCode is the exit code of one run. An interrupted run did not finish,
// so it counts as failed.
func ExitCode(r *Run, detailed bool) int {
	c := Count(r)
	switch {
	case c.Failed > 0 || r.Interrupted:
		return ExitFailed
	case detailed && (c.Changed > 0 || c.WouldChange > 0):
		return ExitChanged
	}
	return ExitOK
}

// severity orders exit codes for combining several targets: an input error
// outranks a failed state, which outranks "changed".
var severity = map[int]int{ExitOK: 0, ExitChanged: 1, ExitFailed: 2, ExitError: 3, ExitPillar: 4}

// Worst combines the exit codes of several targets into one.
func Worst(codes ...int) int {
	worst := ExitOK
	for _, c := range codes {
		if severity[c] > severity[worst] {
			worst = c
		}
	}
	return worst
}
