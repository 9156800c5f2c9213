package run

import (
	"errors"
	"fmt"
	"testing"

	"github.com/statectl/statectl/runner/report"
)

func TestErrorClassification(t *testing.T) {
	for _, tc := range []struct {
		name     string
		err      error
		terminal bool
		code     int
	}{
		{"unclassified error is retried", errors.New("connection reset"), false, report.ExitError},
		{"pillar error waits for inputs", &Error{Stage: StagePillar, Err: errors.New("bad")}, true, report.ExitPillar},
		{"compile error waits for inputs", &Error{Stage: StageCompile, Err: errors.New("bad")}, true, report.ExitError},
		{"targets error waits for inputs", &Error{Stage: StageTargets, Err: errors.New("bad")}, true, report.ExitError},
		{"missing tree waits for inputs", &Error{Stage: StageInputs, Err: errors.New("bad")}, true, report.ExitError},
		{"busy lock is retried", &Error{Stage: StageLock, Err: errors.New("busy")}, false, report.ExitError},
		{"unreachable daemon is retried", &Error{Stage: StageConnect, Err: errors.New("refused")}, false, report.ExitError},
		{"grains error is retried", &Error{Stage: StageGrains, Err: errors.New("x")}, false, report.ExitError},
		{"wrapped terminal error", fmt.Errorf("node1: %w", &Error{Stage: StageCompile, Err: errors.New("bad")}), true, report.ExitError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := IsTerminal(tc.err); got != tc.terminal {
				t.Errorf("IsTerminal = %v, want %v", got, tc.terminal)
			}
			var re *Error
			if errors.As(tc.err, &re) && re.ExitCode() != tc.code {
				t.Errorf("ExitCode = %d, want %d", re.ExitCode(), tc.code)
			}
		})
	}
}
