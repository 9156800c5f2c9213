package file

import (
	"fmt"
	"os"

	"github.com/statectl/statectl/runner/module"
)

var absentSpec = module.FuncSpec{
	Name: "absent",
	Doc: "Makes sure a file or directory is absent, as Salt's file.absent; a directory is removed " +
		"with everything in it. Changes: `removed: PATH`.",
	Args: []module.ArgSpec{
		{Name: "name", Type: module.TypeString, Required: true,
			Doc: "The absolute path to remove; defaults to the state ID. \"/\" is refused."},
	},
}

func validateAbsent(call *module.Call) error {
	p, err := path(call)
	if err != nil {
		return err
	}
	if p == "/" {
		return fmt.Errorf(`refusing to make "/" absent`)
	}
	return nil
}

func planAbsent(call *module.Call) (*module.Plan, error) {
	if err := validateAbsent(call); err != nil {
		return &module.Plan{Fail: true, Comment: err.Error()}, nil
	}
	p, _ := path(call)
	fi, err := os.Lstat(p)
	if os.IsNotExist(err) {
		return &module.Plan{Comment: fmt.Sprintf("File %s is not present", p)}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("failed to stat %s: %w", p, err)
	}
	what := "File"
	if fi.IsDir() {
		what = "Directory"
	}
	return &module.Plan{
		Changes: map[string]any{"removed": p},
		Comment: fmt.Sprintf("%s %s is set for removal", what, p),
	}, nil
}

// applyAbsent removes whatever is at the path now: unlike file.managed
// there is nothing to overwrite, so a change since the plan does not
// matter.
func applyAbsent(call *module.Call) (*module.Outcome, error) {
	p, err := path(call)
	if err != nil {
		return &module.Outcome{Failed: true, Comment: err.Error()}, nil
	}
	fi, err := os.Lstat(p)
	if os.IsNotExist(err) {
		return &module.Outcome{Comment: fmt.Sprintf("File %s is not present", p)}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("failed to stat %s: %w", p, err)
	}
	what := "file"
	if fi.IsDir() {
		what = "directory"
	}
	if err := os.RemoveAll(p); err != nil {
		return nil, fmt.Errorf("failed to remove %s: %w", p, err)
	}
	return &module.Outcome{Changes: map[string]any{"removed": p}, Comment: fmt.Sprintf("Removed %s %s", what, p)}, nil
}
