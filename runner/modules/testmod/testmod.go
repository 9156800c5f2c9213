// Package testmod is Salt's `test` state module: functions that succeed,
// fail or change on demand, for trying requisites, failhard and outputs
// without touching a cluster.
//
// Deliberate differences from Salt:
//   - Plan predicts failures: a fail_* function (or configurable_test_state
//     with result: false) plans with Fail set, so test mode reports False
//     instead of Salt's None and onfail/failhard behave in the plan as they
//     will in the run.
//   - configurable_test_state takes booleans only; Salt's "Random" would make
//     runs non-deterministic.
//   - mod_watch reports {"watch": {old, new}} instead of Salt's list of the
//     watched states with changes, which a module cannot see here.
package testmod

import (
	"context"
	"fmt"

	"github.com/statectl/statectl/runner/module"
)

// Name is the module name, the "test" of "test.nop".
const Name = "test"

// Module is the `test` state module. The zero value is ready to use.
type Module struct{}

var (
	_ module.Module  = Module{}
	_ module.Watcher = Module{}
)

// New returns the test module.
func New() Module { return Module{} }

// Name implements module.Module.
func (Module) Name() string { return Name }

var (
	nameArg = module.ArgSpec{Name: "name", Type: module.TypeString,
		Doc: "A unique string; defaults to the state ID."}
	// comment has no schema Default on purpose: mod_watch must tell a
	// user's comment from none, as Salt's kwargs.get does.
	commentArg = func(def string) module.ArgSpec {
		return module.ArgSpec{Name: "comment", Type: module.TypeString,
			Doc: "The comment to report instead of `" + def + "`; mod_watch reports it too."}
	}
)

// specs is built once: the engine looks functions up for every state.
var specs = []module.FuncSpec{
	{
		Name: "nop",
		Doc: "Does nothing and succeeds without changes. Useful with the `use` " +
			"requisite, or in a template that could otherwise render empty.",
		Args: []module.ArgSpec{nameArg},
	},
	{
		Name: "succeed_without_changes",
		Doc:  "Succeeds without changes (result True, comment `Success!`), in test mode too.",
		Args: []module.ArgSpec{nameArg, commentArg("Success!")},
	},
	{
		Name: "succeed_with_changes",
		Doc: "Succeeds with a pretended change " +
			"(`testing: {old: Unchanged, new: Something pretended to change}`). " +
			"Test mode predicts the change: result None, comment " +
			"`If we weren't testing, this would be successful with changes`. " +
			"Handy for triggering onchanges and watch.",
		Args: []module.ArgSpec{nameArg, commentArg("Success!")},
	},
	{
		Name: "fail_without_changes",
		Doc: "Fails without changes (result False, comment `Failure!`). Test mode " +
			"predicts the failure: result False, comment " +
			"`If we weren't testing, this would be a failure!`.",
		Args: []module.ArgSpec{nameArg, commentArg("Failure!")},
	},
	{
		Name: "fail_with_changes",
		Doc: "Fails with a pretended change (result False, comment `Failure!`). " +
			"Test mode predicts the failure: result False (Salt says None), comment " +
			"`If we weren't testing, this would be failed with changes`.",
		Args: []module.ArgSpec{nameArg, commentArg("Failure!")},
	},
	{
		Name: "configurable_test_state",
		Doc: "Reports exactly what its arguments say. In test mode the result is " +
			"False when result is false, else None with changes and True without; " +
			"the comment is `This is a test` unless one is given.",
		Args: []module.ArgSpec{
			nameArg,
			{Name: "changes", Type: module.TypeBool, Default: true,
				Doc: "Whether the state reports the pretended change."},
			{Name: "result", Type: module.TypeBool, Default: true,
				Doc: "Whether the state succeeds (true) or fails (false)."},
			{Name: "comment", Type: module.TypeString,
				Doc: "The comment to report (empty by default); mod_watch reports it too."},
		},
	},
	{
		Name: "show_notification",
		Doc:  "Succeeds without changes and reports text as its comment, in test mode too.",
		Args: []module.ArgSpec{
			nameArg,
			{Name: "text", Type: module.TypeString, Required: true,
				Doc: "The text to show in the comment field."},
		},
	},
}

// Functions implements module.Module.
func (Module) Functions() []module.FuncSpec { return specs }

// Validate implements module.Module.
func (Module) Validate(call *module.Call) error {
	if !known(call.Function) {
		return fmt.Errorf("unknown function test.%s", call.Function)
	}
	if call.Function == "show_notification" && module.StringArg(call.Args, "text", "") == "" {
		return fmt.Errorf("state %s: missing required argument text", call.ID)
	}
	return nil
}

// changeData is Salt's pretended change, built fresh so callers may mutate it.
func changeData() map[string]any {
	return map[string]any{"testing": map[string]any{
		"old": "Unchanged",
		"new": "Something pretended to change",
	}}
}

// Plan implements module.Module. It never has side effects.
func (Module) Plan(_ context.Context, call *module.Call) (*module.Plan, error) {
	switch call.Function {
	case "nop":
		return &module.Plan{Comment: "Success!"}, nil
	case "succeed_without_changes":
		return &module.Plan{Comment: module.StringArg(call.Args, "comment", "Success!")}, nil
	case "succeed_with_changes":
		return &module.Plan{Changes: changeData(),
			Comment: "If we weren't testing, this would be successful with changes"}, nil
	case "fail_without_changes":
		return &module.Plan{Fail: true,
			Comment: "If we weren't testing, this would be a failure!"}, nil
	case "fail_with_changes":
		return &module.Plan{Fail: true, Changes: changeData(),
			Comment: "If we weren't testing, this would be failed with changes"}, nil
	case "configurable_test_state":
		p := &module.Plan{Fail: !module.BoolArg(call.Args, "result", true)}
		if module.BoolArg(call.Args, "changes", true) {
			p.Changes = changeData()
		}
		p.Comment = module.StringArg(call.Args, "comment", "")
		// Salt's test-mode comment; a converged apply keeps the user's.
		if p.Comment == "" && call.Test {
			p.Comment = "This is a test"
		}
		return p, nil
	case "show_notification":
		text := module.StringArg(call.Args, "text", "")
		if text == "" {
			return nil, fmt.Errorf("missing required argument text")
		}
		return &module.Plan{Comment: text}, nil
	}
	return nil, fmt.Errorf("unknown function test.%s", call.Function)
}

// Apply implements module.Module.
func (Module) Apply(_ context.Context, call *module.Call, _ *module.Plan) (*module.Outcome, error) {
	switch call.Function {
	case "nop":
		return &module.Outcome{Comment: "Success!"}, nil
	case "succeed_without_changes":
		return &module.Outcome{Comment: module.StringArg(call.Args, "comment", "Success!")}, nil
	case "succeed_with_changes":
		return &module.Outcome{Changes: changeData(), Comment: module.StringArg(call.Args, "comment", "Success!")}, nil
	case "fail_without_changes":
		return &module.Outcome{Failed: true, Comment: module.StringArg(call.Args, "comment", "Failure!")}, nil
	case "fail_with_changes":
		return &module.Outcome{Failed: true, Changes: changeData(), Comment: module.StringArg(call.Args, "comment", "Failure!")}, nil
	case "configurable_test_state":
		o := &module.Outcome{Failed: !module.BoolArg(call.Args, "result", true), Comment: module.StringArg(call.Args, "comment", "")}
		if module.BoolArg(call.Args, "changes", true) {
			o.Changes = changeData()
		}
		return o, nil
	case "show_notification":
		text := module.StringArg(call.Args, "text", "")
		if text == "" {
			return nil, fmt.Errorf("missing required argument text")
		}
		return &module.Outcome{Comment: text}, nil
	}
	return nil, fmt.Errorf("unknown function test.%s", call.Function)
}

// ModWatch implements module.Watcher, as Salt's test.mod_watch: the state's
// own result, comment and changes arguments customise what it reports.
func (Module) ModWatch(_ context.Context, call *module.Call, _ bool) (*module.Outcome, error) {
	if !known(call.Function) {
		return nil, fmt.Errorf("unknown function test.%s", call.Function)
	}
	o := &module.Outcome{
		Failed:  !module.BoolArg(call.Args, "result", true),
		Comment: module.StringArg(call.Args, "comment", ""),
	}
	if o.Comment == "" {
		o.Comment = "Watch statement fired."
	}
	if module.BoolArg(call.Args, "changes", true) {
		o.Changes = map[string]any{"watch": map[string]any{
			"old": "Unchanged",
			"new": "Watch statement fired.",
		}}
	}
	return o, nil
}

func known(fn string) bool {
	for _, f := range specs {
		if f.Name == fn {
			return true
		}
	}
	return false
}
