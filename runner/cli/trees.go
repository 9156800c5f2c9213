package cli

import (
	"fmt"
	"os"
	"strings"

	"github.com/statectl/statectl/runner/report"
)

// checkTree fails when the state or pillar tree named by flag is not a
// directory. A missing default ./pillar is an empty pillar, as in Salt, but
// a tree named explicitly (flag or statectl.yaml) that is missing is a typo:
// rendering the states with an empty pillar instead would plan the wrong
// cluster.
func (a *app) checkTree(flag, dir string) error {
	st, err := os.Stat(dir)
	if err == nil && st.IsDir() {
		return nil
	}
	if err == nil {
		err = fmt.Errorf("not a directory")
	} else if os.IsNotExist(err) && flag == "pillar" && !a.flags.Changed(flag) {
		return nil
	}
	return &cliError{code: report.ExitError,
		err:  fmt.Errorf("failed to read the %s tree %s: %w", strings.TrimSuffix(flag, "s"), dir, unwrapPath(err)),
		hint: fmt.Sprintf("pass --%s DIR (default %s), or set %s: in %s", flag, a.flags.Lookup(flag).DefValue, flag, a.opts.config)}
}

// unwrapPath drops the path an *os.PathError repeats.
func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
