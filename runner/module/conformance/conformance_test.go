package conformance_test

import (
	"testing"

	"github.com/statectl/statectl/runner/module/conformance"
	"github.com/statectl/statectl/runner/modules/file"
	"github.com/statectl/statectl/runner/modules/file/filetest"
	"github.com/statectl/statectl/runner/modules/testmod"
)

// TestTestmod holds the built-in test module to the suite. Only its
// convergent functions take part: succeed_with_changes and the fail_*
// functions pretend a change or failure on every run by design.
func TestTestmod(t *testing.T) {
	conformance.Run(t, conformance.Case{
		Module: testmod.New(),
		Steps: []conformance.Step{
			{Function: "nop", Args: map[string]any{"name": "a"}, Converged: true},
			{Function: "succeed_without_changes", Args: map[string]any{"name": "b", "comment": "ok"}, Converged: true},
			{Function: "configurable_test_state", Args: map[string]any{"name": "c", "changes": false}, Converged: true},
			{Function: "show_notification", Args: map[string]any{"name": "d", "text": "hello"}, Converged: true},
		},
		Invalid: []conformance.Step{
			{Function: "show_notification", Args: map[string]any{"name": "d", "text": ""}},
			{Function: "show_notification", Args: map[string]any{"name": "d"}},
			{Function: "configurable_test_state", Args: map[string]any{"name": "c", "changes": "maybe"}},
			{Function: "nosuch", Args: map[string]any{"name": "e"}},
		},
	})
}

// TestFileInProcess holds the file module, run in-process, to the suite;
// runner/plugin runs the same case through the plugin binary.
func TestFileInProcess(t *testing.T) {
	conformance.Run(t, filetest.Case(t, file.New()))
}
