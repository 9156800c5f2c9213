package run

import (
	"errors"

	"github.com/statectl/statectl/runner/report"
)

// Stage names where a target's run stopped before its states ran.
type Stage string

const (
	StageTargets Stage = "targets" // roster, target expression
	StageInputs  Stage = "inputs"  // state or pillar tree missing, bad --pillar-override
	StageGrains  Stage = "grains"
	StagePillar  Stage = "pillar"
	StageCompile Stage = "compile" // render, compile, validation, plugins
	StageLock    Stage = "lock"    // another run holds the target
	// StageClusterLock: another run (maybe on another machine) is writing
	// to the target's cluster.
	StageClusterLock Stage = "cluster lock"
	StageConnect     Stage = "connect" // the target's daemon did not answer
)

// Error is a target's failure before any of its states ran, with the hint
// the CLI prints under it.
type Error struct {
	Stage Stage
	Err   error
	Hint  string
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// ExitCode is the process exit code the error stands for: 5 for pillar
// errors (as Salt), 1 otherwise.
func (e *Error) ExitCode() int {
	if e.Stage == StagePillar {
		return report.ExitPillar
	}
	return report.ExitError
}

// Terminal reports whether retrying cannot help until the inputs change:
// the targets, the trees, the pillar or the states are wrong. Everything
// else (a daemon that did not answer, a lock held by another run, an
// error this package does not classify) is worth retrying; the watch loop
// retries by default, as controller-runtime does, and waits for an input
// change only on errors that mark themselves terminal.
func (e *Error) Terminal() bool {
	switch e.Stage {
	case StageTargets, StageInputs, StagePillar, StageCompile:
		return true
	}
	return false
}

// IsTerminal reports whether err marks itself terminal (see Error.Terminal).
func IsTerminal(err error) bool {
	var t interface{ Terminal() bool }
	return errors.As(err, &t) && t.Terminal()
}

func stageErr(stage Stage, err error, hint string) error {
	return &Error{Stage: stage, Err: err, Hint: hint}
}
