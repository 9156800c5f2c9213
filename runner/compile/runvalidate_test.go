package compile

import (
	"errors"
	"strings"
	"testing"

	"github.com/statectl/statectl/runner/module"
)

// runModule is a fakeModule with a whole-run check: two states may not
// claim the same `owner`.
type runModule struct{ fakeModule }

func (m *runModule) ValidateRun(calls []*module.Call) []module.CallError {
	var out []module.CallError
	seen := map[any]string{}
	for _, c := range calls {
		if first, dup := seen[c.Args["owner"]]; dup {
			out = append(out, module.CallError{ID: c.ID, Err: errors.New("same owner as " + first)})
		}
		seen[c.Args["owner"]] = c.ID
	}
	return out
}

// TestValidateRun: compile hands a module implementing RunValidator all
// its calls of the run at once and reports what it finds against the
// state's file and line; calls that failed their own Validate are left out.
func TestValidateRun(t *testing.T) {
	reg := module.NewRegistry(&runModule{fakeModule{name: "own", funcs: []module.FuncSpec{
		{Name: "thing", Args: []module.ArgSpec{{Name: "owner", Type: module.TypeString}}},
	}, validate: func(c *module.Call) error {
		if c.Args["owner"] == "bad" {
			return errors.New("bad owner")
		}
		return nil
	}}})
	root := writeTree(t, map[string]string{"a.sls": "first:\n  own.thing:\n    - owner: x\nsecond:\n  own.thing:\n    - owner: x\nthird:\n  own.thing:\n    - owner: bad\nfourth:\n  own.thing:\n    - owner: bad\n"})
	_, err := SLS(Options{Root: root, Registry: reg}, "a")
	if err == nil {
		t.Fatal("want errors")
	}
	msg := err.Error()
	if !strings.Contains(msg, "a.sls:5") || !strings.Contains(msg, "state 'second' in SLS 'a': own.thing: same owner as first") {
		t.Fatalf("run check not reported against second at a.sls:5:\n%s", msg)
	}
	if strings.Contains(msg, "same owner as third") {
		t.Fatalf("a call that failed Validate reached ValidateRun:\n%s", msg)
	}
}
