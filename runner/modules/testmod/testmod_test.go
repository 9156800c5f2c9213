package testmod_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/statectl/statectl/runner/engine"
	"github.com/statectl/statectl/runner/module"
	"github.com/statectl/statectl/runner/modules/testmod"
	"github.com/statectl/statectl/runner/state"
)

var pretend = map[string]any{"testing": map[string]any{
	"old": "Unchanged", "new": "Something pretended to change",
}}

func call(fn string, test bool, args map[string]any) *module.Call {
	a := map[string]any{"name": "foo"}
	for k, v := range args {
		a[k] = v
	}
	return &module.Call{ID: "id", SLS: "s", Function: fn, Name: "foo", Args: a, Test: test}
}

func TestPlanAndApply(t *testing.T) {
	cases := []struct {
		fn   string
		args map[string]any
		// plan in test mode
		planChanges map[string]any
		planFail    bool
		planComment string
		// apply
		applyChanges map[string]any
		applyFailed  bool
		applyComment string
	}{
		{fn: "nop", planComment: "Success!", applyComment: "Success!"},
		{fn: "succeed_without_changes", planComment: "Success!", applyComment: "Success!"},
		{fn: "succeed_without_changes", args: map[string]any{"comment": "all good"},
			planComment: "all good", applyComment: "all good"},
		{fn: "succeed_with_changes", planChanges: pretend,
			planComment:  "If we weren't testing, this would be successful with changes",
			applyChanges: pretend, applyComment: "Success!"},
		{fn: "fail_without_changes", planFail: true,
			planComment: "If we weren't testing, this would be a failure!",
			applyFailed: true, applyComment: "Failure!"},
		{fn: "fail_with_changes", planChanges: pretend, planFail: true,
			planComment:  "If we weren't testing, this would be failed with changes",
			applyChanges: pretend, applyFailed: true, applyComment: "Failure!"},
		{fn: "configurable_test_state", planChanges: pretend, planComment: "This is a test",
			applyChanges: pretend},
		{fn: "configurable_test_state", args: map[string]any{"changes": false, "result": false, "comment": "bar.baz"},
			planFail: true, planComment: "bar.baz", applyFailed: true, applyComment: "bar.baz"},
		{fn: "configurable_test_state", args: map[string]any{"changes": true, "result": false},
			planChanges: pretend, planFail: true, planComment: "This is a test",
			applyChanges: pretend, applyFailed: true},
		{fn: "show_notification", args: map[string]any{"text": "Cluster node2 joins next"},
			planComment: "Cluster node2 joins next", applyComment: "Cluster node2 joins next"},
	}
	m := testmod.New()
	for _, tc := range cases {
		t.Run(tc.fn+"/"+tc.planComment, func(t *testing.T) {
			if err := m.Validate(call(tc.fn, true, tc.args)); err != nil {
				t.Fatalf("validate: %v", err)
			}
			p, err := m.Plan(context.Background(), call(tc.fn, true, tc.args))
			if err != nil {
				t.Fatalf("plan: %v", err)
			}
			if !reflect.DeepEqual(p.Changes, tc.planChanges) && (len(p.Changes) > 0 || len(tc.planChanges) > 0) {
				t.Errorf("plan changes %v, want %v", p.Changes, tc.planChanges)
			}
			if p.Fail != tc.planFail || p.Comment != tc.planComment {
				t.Errorf("plan fail=%v %q, want fail=%v %q", p.Fail, p.Comment, tc.planFail, tc.planComment)
			}
			o, err := m.Apply(context.Background(), call(tc.fn, false, tc.args), p)
			if err != nil {
				t.Fatalf("apply: %v", err)
			}
			if !reflect.DeepEqual(o.Changes, tc.applyChanges) && (len(o.Changes) > 0 || len(tc.applyChanges) > 0) {
				t.Errorf("apply changes %v, want %v", o.Changes, tc.applyChanges)
			}
			if o.Failed != tc.applyFailed || o.Comment != tc.applyComment {
				t.Errorf("apply failed=%v %q, want failed=%v %q", o.Failed, o.Comment, tc.applyFailed, tc.applyComment)
			}
		})
	}
}

// A converged configurable_test_state keeps the user's (empty) comment
// outside test mode, as Salt does.
func TestConfigurablePlanCommentOutsideTestMode(t *testing.T) {
	p, err := testmod.New().Plan(context.Background(), call("configurable_test_state", false, map[string]any{"changes": false}))
	if err != nil || p.Comment != "" || len(p.Changes) != 0 || p.Fail {
		t.Fatalf("plan %+v, %v", p, err)
	}
}

func TestModWatch(t *testing.T) {
	cases := []struct {
		fn      string
		args    map[string]any
		failed  bool
		comment string
		changes bool
	}{
		{fn: "succeed_without_changes", comment: "Watch statement fired.", changes: true},
		{fn: "succeed_without_changes", args: map[string]any{"comment": "This is a custom comment"},
			comment: "This is a custom comment", changes: true},
		{fn: "configurable_test_state", args: map[string]any{"changes": false}, comment: "Watch statement fired."},
		{fn: "configurable_test_state", args: map[string]any{"result": false}, failed: true, comment: "Watch statement fired.", changes: true},
	}
	for _, tc := range cases {
		o, err := testmod.New().ModWatch(context.Background(), call(tc.fn, false, tc.args), false)
		if err != nil {
			t.Fatalf("%s: %v", tc.fn, err)
		}
		if o.Failed != tc.failed || o.Comment != tc.comment || (len(o.Changes) > 0) != tc.changes {
			t.Errorf("%s %v: got %+v", tc.fn, tc.args, o)
		}
	}
}

func TestValidateAndErrors(t *testing.T) {
	m := testmod.New()
	for _, c := range []*module.Call{
		call("show_notification", false, nil),
		call("show_notification", false, map[string]any{"text": ""}),
		call("no_such_function", false, nil),
	} {
		if err := m.Validate(c); err == nil {
			t.Errorf("validate %s %v: no error", c.Function, c.Args)
		}
		if _, err := m.Plan(context.Background(), c); err == nil {
			t.Errorf("plan %s %v: no error", c.Function, c.Args)
		}
	}
}

func TestFunctionsDocumented(t *testing.T) {
	want := []string{"nop", "succeed_without_changes", "succeed_with_changes", "fail_without_changes",
		"fail_with_changes", "configurable_test_state", "show_notification"}
	var got []string
	for _, f := range testmod.New().Functions() {
		got = append(got, f.Name)
		if f.Doc == "" {
			t.Errorf("%s: no doc", f.Name)
		}
		if _, ok := f.Arg("name"); !ok {
			t.Errorf("%s: no name argument", f.Name)
		}
		for _, a := range f.Args {
			if a.Doc == "" || a.Type == "" {
				t.Errorf("%s.%s: doc %q type %q", f.Name, a.Name, a.Doc, a.Type)
			}
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("functions %v, want %v", got, want)
	}
	if testmod.New().Name() != "test" {
		t.Errorf("name %q", testmod.New().Name())
	}
}

// TestWithEngine runs Salt's test-state examples through the engine in both
// modes: the module and the engine agree on Salt's results.
func TestWithEngine(t *testing.T) {
	mk := func(id, fn string, args map[string]any, deps ...state.Edge) *state.State {
		a := map[string]any{"name": id}
		for k, v := range args {
			a[k] = v
		}
		return &state.State{ID: id, Name: id, SLS: "demo", Module: "test", Function: fn, Args: a, Deps: deps}
	}
	c := &state.Compiled{States: []*state.State{
		mk("changes", "succeed_with_changes", nil),
		mk("quiet", "succeed_without_changes", nil),
		mk("watcher", "succeed_without_changes", nil, state.Edge{Kind: state.Watch, Index: 0}, state.Edge{Kind: state.Watch, Index: 1}),
		mk("broken", "fail_without_changes", nil),
		mk("rescue", "show_notification", map[string]any{"text": "rolling back"}, state.Edge{Kind: state.OnFail, Index: 3}),
		mk("after", "nop", nil, state.Edge{Kind: state.Require, Index: 3}),
	}}
	type row struct{ result, comment string }
	for _, tc := range []struct {
		test bool
		want []row
	}{
		{false, []row{
			{"true", "Success!"},
			{"true", "Success!"},
			{"true", "Success!\nWatch statement fired."},
			{"false", "Failure!"},
			{"true", "rolling back"},
			{"false", "One or more requisite failed: demo.broken"},
		}},
		{true, []row{
			{"none", "If we weren't testing, this would be successful with changes"},
			{"true", "Success!"},
			{"none", "Success!\nWatch statement fired."},
			{"false", "If we weren't testing, this would be a failure!"},
			{"true", "rolling back"},
			{"false", "One or more requisite failed: demo.broken"},
		}},
	} {
		run := engine.Execute(context.Background(), c, module.NewRegistry(testmod.New()), engine.Options{Test: tc.test})
		var got []row
		for _, r := range run.Results {
			res := "none"
			if r.Result != nil {
				res = map[bool]string{true: "true", false: "false"}[*r.Result]
			}
			got = append(got, row{res, r.Comment})
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("test=%v:\n got %q\nwant %q", tc.test, got, tc.want)
		}
		if w := run.Results[2].Changes; !strings.Contains(fmtKeys(w), "watch") {
			t.Errorf("test=%v: watcher changes %v", tc.test, w)
		}
	}
}

func fmtKeys(m map[string]any) string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return strings.Join(ks, ",")
}
