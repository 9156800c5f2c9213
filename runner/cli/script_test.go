package cli

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/statectl/statectl/runner/golden"
)

func TestMain(m *testing.M) {
	// The scripts run statectl as a real subprocess, so exit codes,
	// stdout and stderr are what a user sees.
	testscript.Main(m, map[string]func(){
		"statectl": func() { os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr)) },
	})
}

func params(dir string) testscript.Params {
	return testscript.Params{
		Dir:                 dir,
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		UpdateScripts:       golden.Update(), // -update rewrites cmp expectations in testdata/script
		Cmds:                map[string]func(ts *testscript.TestScript, neg bool, args []string){"exitcode": exitcodeCmd},
		Setup: func(env *testscript.Env) error {
			// A pinned clock makes human output byte-comparable.
			env.Setenv(clockEnv, "2025-11-21T10:15:01.936011Z")
			env.Setenv("NO_COLOR", "")
			// Run locks per script: scripts run in parallel on the same names.
			env.Setenv("XDG_RUNTIME_DIR", env.WorkDir)
			return pluginScriptSetup(env)
		},
	}
}

// TestScripts runs the command scripts: happy paths, outputs, exit codes,
// statectl.yaml and targeting.
func TestScripts(t *testing.T) {
	testscript.Run(t, params("../../testdata/script"))
}

// TestBadInput runs the bad-input corpus: each script asserts the exact
// error, a non-zero exit code and that no state ran.
func TestBadInput(t *testing.T) {
	testscript.Run(t, params("../../testdata/script/badinput"))
}

// exitcodeCmd is `exitcode N PROG [ARGS...]`: run PROG and require exit
// status N exactly (testscript's `! exec` only says "not zero"). Its stdout
// and stderr are then checked as after exec.
func exitcodeCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exitcode N prog [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exitcode: bad status %q", args[0])
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("exitcode: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("exit status %d, want %d", got, want)
	}
}
