package compile

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/statectl/statectl/runner/render"
	"github.com/statectl/statectl/runner/target"
)

// hint formats the hint line as Error() prints it.
const hint = "\n    hint: "

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name string
		sls  string
		want string
	}{
		{"missing sls", "nope.x", `No matching sls found for 'nope.x' in env 'base'` + hint +
			`'nope.x' would be nope/x.sls or nope/x/init.sls in the state tree ../../testdata/compile/errors`},
		{"missing sls, typo", "missing_includ", `No matching sls found for 'missing_includ' in env 'base'` + hint +
			`did you mean 'missing_include'?`},
		{"missing sls, file name", "notmap.sls", `No matching sls found for 'notmap.sls' in env 'base'` + hint +
			`SLS names leave out the .sls suffix: 'notmap'`},
		{"missing include", "missing_include",
			`missing_include.sls:2: No matching sls found for 'nothere' in env 'base' (included by SLS 'missing_include')` + hint +
				`'nothere' would be nothere.sls or nothere/init.sls in the state tree ../../testdata/compile/errors`},
		{"invalid name", "bad..name",
			`invalid SLS name 'bad..name'` + hint + `SLS names are dotted paths below the state root, e.g. incus.cluster`},
		{"relative include beyond top", "rel",
			`rel/init.sls:2: Attempted relative include of '...toofar' within SLS 'rel' goes beyond top level package`},
		{"not a mapping", "notmap", `notmap.sls:1: SLS 'notmap' does not render to a mapping of state IDs (got a list)`},
		{"conflicting IDs", "conflict",
			`conflict/b.sls:2: Detected conflicting IDs, SLS IDs need to be globally unique. The conflicting ID is 'dup' and is found in SLS 'base:conflict.a' and SLS 'base:conflict.b'`},
		{"extend missing ID", "extend_missing",
			`extend_missing.sls:3: Cannot extend ID 'member-x' in 'base:extend_missing'. It is not part of the high state.` +
				hint + `did you mean 'memeber-x'? Otherwise include the SLS that declares 'member-x'`},
		{"same module twice", "same_module",
			`same_module.sls:3: state 'twice' in SLS 'same_module': declares module 'test' twice ('test.nop' and 'test.succeed_without_changes'); use one ID per state of the same module`},
		{"missing requisite", "missing_req",
			`missing_req.sls:4: Referenced state does not exist for requisite [require: (test: node9)] in state [x] in SLS [missing_req]` +
				hint + `requisites name a state's ID or name; include the SLS that declares it`},
		{"requisite with wrong module", "wrong_module_req",
			`wrong_module_req.sls:7: Referenced state does not exist for requisite [require: (test: member)] in state [x] in SLS [wrong_module_req]` +
				hint + "'member' is a demo state: write `- demo: member`"},
		{"requisite on missing sls", "missing_sls_req",
			`missing_sls_req.sls:4: Referenced state does not exist for requisite [require: (sls: incus.settings)] in state [x] in SLS [missing_sls_req]` +
				hint + `SLS 'incus.settings' is not part of this run; include it`},
		{"cycle", "cycle",
			`cycle.sls:1: Recursive requisites were found: a -> b -> c -> a` + hint + `break the cycle by removing one of these requisites`},
		{"prereq cycle", "prereq_cycle",
			`prereq_cycle.sls:1: Recursive requisites were found: a -> b -> a` + hint + `break the cycle by removing one of these requisites`},
		{"use cycle", "use_cycle",
			`use_cycle.sls:1: Recursive use requisites were found: a -> b -> a` + hint + `break the cycle by removing one of these requisites`},
		{"validation, all at once", "validation", `
validation.sls:2: state 'bad-module' in SLS 'validation': unknown module 'tset' in 'tset.nop'` + hint + "did you mean 'test'? `statectl modules` lists the available modules" + `
validation.sls:4: state 'bad-function' in SLS 'validation': unknown function 'test.nopp'` + hint + "did you mean 'test.nop'? `statectl modules` lists the functions of each module" + `
validation.sls:6: state 'missing-arg' in SLS 'validation': missing required argument 'address' for demo.member
validation.sls:10: state 'wrong-types' in SLS 'validation': argument 'address' of demo.member must be a string, got a list
validation.sls:11: state 'wrong-types' in SLS 'validation': argument 'password' of demo.member must be a string, got a mapping
validation.sls:12: state 'wrong-types' in SLS 'validation': argument 'force' of demo.member must be true or false, got a string
validation.sls:13: state 'wrong-types' in SLS 'validation': argument 'port' of demo.member must be an integer, got a string
validation.sls:14: state 'wrong-types' in SLS 'validation': argument 'tags' of demo.member must be a string or a list of strings, got a list of lists
validation.sls:15: state 'wrong-types' in SLS 'validation': argument 'config' of demo.member must be a mapping, got a list
validation.sls:16: state 'wrong-types' in SLS 'validation': argument 'items' of demo.member must be a list, got a mapping
validation.sls:19: state 'unknown-arg' in SLS 'validation': unknown argument 'adress' for demo.member` + hint + "did you mean 'address'? `statectl modules` documents the arguments of demo.member" + `
validation.sls:23: state 'salt-keyword' in SLS 'validation': 'onlyif' is a Salt keyword statectl does not support
validation.sls:25: state 'module-validate' in SLS 'validation': demo.member: port must be at most 65535
validation.sls:30: state 'null-required' in SLS 'validation': required argument 'address' of demo.member is empty (null)`},
		{"structure, all at once", "structure", `
structure.sls:1: state 'not-a-map' in SLS 'structure': must be a mapping of module.function to a list of arguments, got a list
structure.sls:3: state 'no-function' in SLS 'structure': no function given for module 'test'` + hint + "write `test.function:` or put the function name in the list, e.g. `- present`" + `
structure.sls:8: state 'two-functions' in SLS 'structure': function given twice for module 'test' ('nop' and 'succeed_without_changes')
structure.sls:11: state 'multi-key' in SLS 'structure': each argument must be a single ` + "`- name: value`" + ` item, got a mapping with 2 keys
structure.sls:15: state 'dup-arg' in SLS 'structure': argument 'order' given twice
structure.sls:19: state 'both-names' in SLS 'structure': both name and names are given; use one
structure.sls:22: state 'bad-order' in SLS 'structure': order must be first, last or a positive integer
structure.sls:25: state 'bad-timeout' in SLS 'structure': timeout must be a positive number of seconds
structure.sls:28: state 'bad-failhard' in SLS 'structure': failhard must be true or false
structure.sls:32: state 'bad-req' in SLS 'structure': require target must be ` + "`- module: id-or-name`, `- sls: name`" + ` or a bare ID
structure.sls:35: state 'args-map' in SLS 'structure': arguments of 'test.nop' must be a list of ` + "`- name: value`" + ` items, got a mapping`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := SLS(Options{Root: filepath.Join(testdata, "errors"), Registry: testRegistry()}, tt.sls)
			checkError(t, c, err, tt.want)
		})
	}
}

func checkError(t *testing.T, c any, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("compile succeeded (%v), want an error", c)
	}
	var ce Errors
	if !errors.As(err, &ce) {
		t.Fatalf("error is %T, want compile.Errors", err)
	}
	if got := err.Error(); got != strings.TrimSpace(want) {
		t.Errorf("error:\n%s\nwant:\n%s", got, strings.TrimSpace(want))
	}
}

func TestTopErrors(t *testing.T) {
	node2 := &target.Subject{ID: "node2", Grains: map[string]any{"id": "node2", "role": "web"}}
	_, matchErr := target.Match("G@role:web and", "compound", node2)
	if matchErr == nil {
		t.Fatal("target.Match accepted a broken expression")
	}
	tests := []struct {
		dir  string
		want string
	}{
		{"badtop1", `top.sls:1: invalid top file: must be a mapping of saltenv to targets, got a list`},
		{"badtop2", `top.sls:3: invalid top file: unknown match type 'regex' for target '*' (use compound, glob, grain, pillar, list or pcre)`},
		{"badtop3", fmt.Sprintf(`top.sls:2: invalid top file: %v (match: compound)`, matchErr)},
		{"notop", `top.sls: No Top file or master_tops data matches found for target 'node2'` + hint + "check the targets in top.sls against `statectl grains`"},
		{"topmissing", `top.sls:3: No matching sls found for 'nothere' in env 'base'` + hint +
			`'nothere' would be nothere.sls or nothere/init.sls in the state tree ../../testdata/compile/errors/topmissing`},
		{".", `top.sls: no top file found in state root ../../testdata/compile/errors` + hint + `create top.sls, or name the SLS to apply`},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			c, err := Highstate(Options{Root: filepath.Join(testdata, "errors", tt.dir), Target: node2, Registry: testRegistry()})
			checkError(t, c, err, tt.want)
		})
	}
}

// TestErrorFields checks the structured fields callers act on, and that
// no argument value (a secret here) leaks into a message.
func TestErrorFields(t *testing.T) {
	_, err := SLS(Options{Root: filepath.Join(testdata, "errors"), Registry: testRegistry()}, "validation")
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("error is %T, want compile.Errors", err)
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error output contains a secret value:\n%v", err)
	}
	var first *Error
	if !errors.As(err, &first) || first != es[0] {
		t.Fatalf("errors.As did not find the first *Error")
	}
	got := map[string]Error{}
	for _, e := range es {
		got[e.ID+"/"+e.Arg] = *e
	}
	want := []Error{
		{File: "validation.sls", Line: 19, SLS: "validation", ID: "unknown-arg", Arg: "adress"},
		{File: "validation.sls", Line: 6, SLS: "validation", ID: "missing-arg", Arg: "address"},
		{File: "validation.sls", Line: 2, SLS: "validation", ID: "bad-module"},
	}
	for _, w := range want {
		g, ok := got[w.ID+"/"+w.Arg]
		if !ok {
			t.Errorf("no error for %s/%s", w.ID, w.Arg)
			continue
		}
		if g.File != w.File || g.Line != w.Line || g.SLS != w.SLS {
			t.Errorf("%s/%s at %s:%d SLS %q, want %s:%d SLS %q", w.ID, w.Arg, g.File, g.Line, g.SLS, w.File, w.Line, w.SLS)
		}
	}
}

// TestRenderErrorPassThrough: a render error reaches the caller intact
// (file, line and context are render's), findable with errors.As.
func TestRenderErrorPassThrough(t *testing.T) {
	_, err := SLS(Options{Root: filepath.Join(testdata, "errors"), Registry: testRegistry()}, "badjinja")
	var re *render.Error
	if !errors.As(err, &re) {
		t.Fatalf("error %T (%v) does not wrap a *render.Error", err, err)
	}
	if err.Error() != re.Error() {
		t.Errorf("error = %q, want render's %q", err, re)
	}
	if re.File != "badjinja.sls" || re.Line != 3 {
		t.Errorf("render error at %s:%d, want badjinja.sls:3", re.File, re.Line)
	}
	var ce *Error
	if !errors.As(err, &ce) || ce.File != "badjinja.sls" || ce.Line != 3 || ce.SLS != "badjinja" {
		t.Errorf("compile error fields = %+v, want badjinja.sls:3 in SLS badjinja", ce)
	}
}
