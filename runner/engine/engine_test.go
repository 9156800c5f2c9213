package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/statectl/statectl/runner/engine"
	"github.com/statectl/statectl/runner/module"
	"github.com/statectl/statectl/runner/secret"
	"github.com/statectl/statectl/runner/state"
)

var (
	changes = map[string]any{"changes": true}
	fails   = map[string]any{"fail": true}
	clean   = map[string]any{}
)

func on(kind state.ReqKind, ids ...string) map[state.ReqKind][]string {
	return map[state.ReqKind][]string{kind: ids}
}

// want is one state's expected result; res "" means the state must not be
// in Results at all.
type want struct {
	res                string // "true", "false" or "none"
	comment            string // substring of the comment; "" skips the check
	changed            bool
	plan, apply, watch int
}

type engineCase struct {
	name     string
	test     bool
	failhard bool
	states   []st
	want     map[string]want
	// stoppedBy is the ID of the failhard state expected to stop the run.
	stoppedBy string
	notRun    int
}

func resultString(r *state.Result) string {
	switch {
	case r.Result == nil:
		return "none"
	case *r.Result:
		return "true"
	}
	return "false"
}

func runCases(t *testing.T, cases []engineCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			plain, w := newFake("fake"), newFake("fakew")
			reg := module.NewRegistry(plain, watcher{w})
			c := build(t, tc.states...)
			run := engine.Execute(context.Background(), c, reg, engine.Options{
				Test: tc.test, Failhard: tc.failhard, Now: tick(),
				DefaultTimeout: 5 * time.Second,
			})
			byID := map[string]*state.Result{}
			for i, r := range run.Results {
				if r.RunNum != i {
					t.Errorf("%s: RunNum = %d, want %d", r.ID, r.RunNum, i)
				}
				if r.Changes == nil {
					t.Errorf("%s: Changes is nil", r.ID)
				}
				byID[r.ID] = r
			}
			for _, d := range tc.states {
				wt, ok := tc.want[d.id]
				if !ok {
					t.Fatalf("no expectation for %s", d.id)
				}
				r := byID[d.id]
				got := counts{}
				for _, f := range []*fake{plain, w} {
					n := f.counts(d.id)
					got.plan += n.plan
					got.apply += n.apply
					got.watch += n.watch
				}
				if (counts{wt.plan, wt.apply, wt.watch}) != got {
					t.Errorf("%s: calls plan/apply/watch = %d/%d/%d, want %d/%d/%d",
						d.id, got.plan, got.apply, got.watch, wt.plan, wt.apply, wt.watch)
				}
				if wt.res == "" {
					if r != nil {
						t.Errorf("%s: ran (%s %q), want not run", d.id, resultString(r), r.Comment)
					}
					continue
				}
				if r == nil {
					t.Errorf("%s: not in results", d.id)
					continue
				}
				if got := resultString(r); got != wt.res {
					t.Errorf("%s: result %s, want %s (comment %q)", d.id, got, wt.res, r.Comment)
				}
				if !strings.Contains(r.Comment, wt.comment) {
					t.Errorf("%s: comment %q, want it to contain %q", d.id, r.Comment, wt.comment)
				}
				if r.Changed() != wt.changed {
					t.Errorf("%s: changed = %v (%v), want %v", d.id, r.Changed(), r.Changes, wt.changed)
				}
			}
			wantTag := ""
			if tc.stoppedBy != "" {
				wantTag = "fake_|-" + tc.stoppedBy + "_|-" + tc.stoppedBy + "_|-run"
			}
			if run.Failhard != (tc.stoppedBy != "") || run.StoppedBy != wantTag {
				t.Errorf("Stopped = %v by %q, want by %q", run.Failhard, run.StoppedBy, wantTag)
			}
			if run.NotRun != tc.notRun {
				t.Errorf("NotRun = %d, want %d", run.NotRun, tc.notRun)
			}
			if run.Interrupted {
				t.Errorf("Interrupted without a cancel")
			}
			if tc.test {
				for _, f := range []*fake{plain, w} {
					for _, call := range f.calls {
						if !call.Test {
							t.Errorf("%s: module called with Test=false in test mode", call.ID)
						}
					}
				}
			}
		})
	}
}

func TestRequisitesApply(t *testing.T) {
	runCases(t, []engineCase{
		{
			name:   "converged state is not applied",
			states: []st{{id: "A", args: clean}},
			want:   map[string]want{"A": {res: "true", comment: "plan of A", plan: 1}},
		},
		{
			name:   "changing state is applied",
			states: []st{{id: "A", args: changes}},
			want:   map[string]want{"A": {res: "true", comment: "applied A", changed: true, plan: 1, apply: 1}},
		},
		{
			name:   "predicted failure is still applied",
			states: []st{{id: "A", args: fails}},
			want:   map[string]want{"A": {res: "false", comment: "failed A", plan: 1, apply: 1}},
		},
		{
			name: "require met",
			states: []st{
				{id: "A", args: changes},
				{id: "B", args: changes, req: on(state.Require, "A")},
			},
			want: map[string]want{
				"A": {res: "true", changed: true, plan: 1, apply: 1},
				"B": {res: "true", comment: "applied B", changed: true, plan: 1, apply: 1},
			},
		},
		{
			name: "require failed lists every failed requisite once",
			states: []st{
				{id: "A", args: fails},
				{id: "B", args: map[string]any{"apply_fail": true, "changes": true}},
				{id: "C", args: changes, req: map[state.ReqKind][]string{
					state.Require: {"A", "B", "A"}, state.Watch: {"B"}}},
			},
			want: map[string]want{
				"A": {res: "false", plan: 1, apply: 1},
				"B": {res: "false", changed: true, plan: 1, apply: 1},
				"C": {res: "false", comment: "One or more requisite failed: s.A, s.B"},
			},
		},
		{
			name: "require failure propagates down a chain",
			states: []st{
				{id: "A", args: fails},
				{id: "B", req: on(state.Require, "A")},
				{id: "C", req: on(state.Require, "B")},
				{id: "D", args: changes},
			},
			want: map[string]want{
				"A": {res: "false", plan: 1, apply: 1},
				"B": {res: "false", comment: "One or more requisite failed: s.A"},
				"C": {res: "false", comment: "One or more requisite failed: s.B"},
				"D": {res: "true", changed: true, plan: 1, apply: 1},
			},
		},
		{
			name: "watch fires mod_watch when the watched state changed",
			states: []st{
				{id: "A", args: changes},
				{id: "W", mod: "fakew", args: clean, req: on(state.Watch, "A")},
			},
			want: map[string]want{
				"A": {res: "true", changed: true, plan: 1, apply: 1},
				"W": {res: "true", comment: "plan of W\nmod_watch of W (test=false)", changed: true, plan: 1, watch: 1},
			},
		},
		{
			name: "watch merges mod_watch into an applied state",
			states: []st{
				{id: "A", args: changes},
				{id: "W", mod: "fakew", args: changes, req: on(state.Watch, "A")},
			},
			want: map[string]want{
				"A": {res: "true", changed: true, plan: 1, apply: 1},
				"W": {res: "true", comment: "applied W\nmod_watch of W", changed: true, plan: 1, apply: 1, watch: 1},
			},
		},
		{
			name: "watch without changes is a require",
			states: []st{
				{id: "A", args: clean},
				{id: "W", mod: "fakew", args: clean, req: on(state.Watch, "A")},
			},
			want: map[string]want{
				"A": {res: "true", plan: 1},
				"W": {res: "true", comment: "plan of W", plan: 1},
			},
		},
		{
			name: "watch on a failed state fails",
			states: []st{
				{id: "A", args: fails},
				{id: "W", mod: "fakew", req: on(state.Watch, "A")},
			},
			want: map[string]want{
				"A": {res: "false", plan: 1, apply: 1},
				"W": {res: "false", comment: "One or more requisite failed: s.A"},
			},
		},
		{
			name: "watch on a module without mod_watch is a require",
			states: []st{
				{id: "A", args: changes},
				{id: "B", args: clean, req: on(state.Watch, "A")},
			},
			want: map[string]want{
				"A": {res: "true", changed: true, plan: 1, apply: 1},
				"B": {res: "true", comment: "plan of B", plan: 1},
			},
		},
		{
			name: "mod_watch is not called when the state itself failed",
			states: []st{
				{id: "A", args: changes},
				{id: "W", mod: "fakew", args: fails, req: on(state.Watch, "A")},
			},
			want: map[string]want{
				"A": {res: "true", changed: true, plan: 1, apply: 1},
				"W": {res: "false", comment: "failed W", plan: 1, apply: 1},
			},
		},
		{
			name: "onchanges met by one of several",
			states: []st{
				{id: "A", args: clean},
				{id: "B", args: changes},
				{id: "C", args: changes, req: on(state.OnChanges, "A", "B")},
			},
			want: map[string]want{
				"A": {res: "true", plan: 1},
				"B": {res: "true", changed: true, plan: 1, apply: 1},
				"C": {res: "true", comment: "applied C", changed: true, plan: 1, apply: 1},
			},
		},
		{
			name: "onchanges not met does not call the module",
			states: []st{
				{id: "A", args: clean},
				{id: "C", args: changes, req: on(state.OnChanges, "A")},
				{id: "D", args: changes, req: on(state.OnChanges, "C")},
			},
			want: map[string]want{
				"A": {res: "true", plan: 1},
				"C": {res: "true", comment: "State was not run because none of the onchanges reqs changed"},
				"D": {res: "true", comment: "State was not run because none of the onchanges reqs changed"},
			},
		},
		{
			name: "onchanges on a failed state fails",
			states: []st{
				{id: "A", args: map[string]any{"apply_fail": true, "changes": true}},
				{id: "C", args: changes, req: on(state.OnChanges, "A")},
			},
			want: map[string]want{
				"A": {res: "false", changed: true, plan: 1, apply: 1},
				"C": {res: "false", comment: "One or more requisite failed: s.A"},
			},
		},
		{
			name: "onfail met",
			states: []st{
				{id: "A", args: clean},
				{id: "B", args: fails},
				{id: "H", args: changes, req: on(state.OnFail, "A", "B")},
			},
			want: map[string]want{
				"A": {res: "true", plan: 1},
				"B": {res: "false", plan: 1, apply: 1},
				"H": {res: "true", comment: "applied H", changed: true, plan: 1, apply: 1},
			},
		},
		{
			name: "onfail not met does not call the module",
			states: []st{
				{id: "A", args: changes},
				{id: "H", args: changes, req: on(state.OnFail, "A")},
			},
			want: map[string]want{
				"A": {res: "true", changed: true, plan: 1, apply: 1},
				"H": {res: "true", comment: "State was not run because onfail req did not change"},
			},
		},
		{
			name: "require failure wins over a met onfail",
			states: []st{
				{id: "A", args: fails},
				{id: "H", req: map[state.ReqKind][]string{state.OnFail: {"A"}, state.Require: {"A"}}},
			},
			want: map[string]want{
				"A": {res: "false", plan: 1, apply: 1},
				"H": {res: "false", comment: "One or more requisite failed: s.A"},
			},
		},
		{
			name: "prereq runs first when the target will change",
			states: []st{
				{id: "X", args: changes, req: on(state.Prereq, "Y")},
				{id: "Y", args: changes},
			},
			want: map[string]want{
				"X": {res: "true", comment: "applied X", changed: true, plan: 1, apply: 1},
				"Y": {res: "true", comment: "applied Y", changed: true, plan: 2, apply: 1},
			},
		},
		{
			name: "prereq does not run when the target is converged",
			states: []st{
				{id: "X", args: changes, req: on(state.Prereq, "Y")},
				{id: "Y", args: clean},
			},
			want: map[string]want{
				"X": {res: "true", comment: "No changes detected"},
				"Y": {res: "true", comment: "plan of Y", plan: 2},
			},
		},
		{
			name: "prereq failure fails its target",
			states: []st{
				{id: "X", args: fails, req: on(state.Prereq, "Y")},
				{id: "Y", args: changes},
			},
			want: map[string]want{
				"X": {res: "false", comment: "failed X", plan: 1, apply: 1},
				"Y": {res: "false", comment: "One or more requisite failed: s.X", plan: 1},
			},
		},
		{
			name: "prereq is not run when the target would fail",
			states: []st{
				{id: "X", args: changes, req: on(state.Prereq, "Y")},
				{id: "Y", args: map[string]any{"plan_error": "failed to read Y"}},
			},
			want: map[string]want{
				"X": {res: "true", comment: "State was not run because its prereq would fail: s.Y"},
				"Y": {res: "false", comment: "failed to read Y", plan: 2},
			},
		},
		{
			name: "prereq target blocked by its own require is not planned early",
			states: []st{
				{id: "A", args: fails},
				{id: "X", args: changes, req: on(state.Prereq, "Y")},
				{id: "Y", args: changes, req: on(state.Require, "A")},
			},
			want: map[string]want{
				"A": {res: "false", plan: 1, apply: 1},
				"X": {res: "true", comment: "State was not run because its prereq would fail: s.Y"},
				"Y": {res: "false", comment: "One or more requisite failed: s.A"},
			},
		},
		{
			name: "unknown module fails only its state",
			states: []st{
				{id: "A", mod: "nope", fn: "present"},
				{id: "B", args: changes},
			},
			want: map[string]want{
				"A": {res: "false", comment: "State 'nope.present' was not found in SLS 's'"},
				"B": {res: "true", changed: true, plan: 1, apply: 1},
			},
		},
		{
			name: "plan and apply errors fail the state with the module's message",
			states: []st{
				{id: "A", args: map[string]any{"plan_error": "failed to get member A: not found"}},
				{id: "B", args: map[string]any{"changes": true, "apply_error": "failed to join B: refused"}},
			},
			want: map[string]want{
				"A": {res: "false", comment: "failed to get member A: not found", plan: 1},
				"B": {res: "false", comment: "failed to join B: refused", plan: 1, apply: 1},
			},
		},
	})
}

func TestRequisitesTestMode(t *testing.T) {
	runCases(t, []engineCase{
		{
			name: "plan only: None with changes, True without, False on predicted failure",
			test: true,
			states: []st{
				{id: "A", args: changes},
				{id: "B", args: clean},
				{id: "C", args: fails},
				{id: "D", args: map[string]any{"plan_error": "no cluster"}},
			},
			want: map[string]want{
				"A": {res: "none", comment: "plan of A", changed: true, plan: 1},
				"B": {res: "true", comment: "plan of B", plan: 1},
				"C": {res: "false", comment: "plan of C", plan: 1},
				"D": {res: "false", comment: "no cluster", plan: 1},
			},
		},
		{
			name: "require on a predicted change runs, on a predicted failure fails",
			test: true,
			states: []st{
				{id: "A", args: changes},
				{id: "B", args: changes, req: on(state.Require, "A")},
				{id: "C", args: fails},
				{id: "D", args: changes, req: on(state.Require, "C")},
			},
			want: map[string]want{
				"A": {res: "none", changed: true, plan: 1},
				"B": {res: "none", changed: true, plan: 1},
				"C": {res: "false", plan: 1},
				"D": {res: "false", comment: "One or more requisite failed: s.C"},
			},
		},
		{
			// Salt #14745: a state planned against a system an earlier
			// state would change cannot be predicted to fail; the chain
			// after it is not either. Without a pending change it fails.
			name: "a failing plan behind a predicted change is None, not False",
			test: true,
			states: []st{
				{id: "A", args: changes},
				{id: "B", args: fails, req: on(state.Require, "A")},
				{id: "C", args: map[string]any{"plan_error": "not clustered"}, req: on(state.Require, "B")},
				{id: "D", args: clean},
				{id: "E", args: fails, req: on(state.Require, "D")},
			},
			want: map[string]want{
				"A": {res: "none", changed: true, plan: 1},
				"B": {res: "none", comment: "Cannot be predicted until A would have changed; planned against the current system: plan of B", plan: 1},
				"C": {res: "none", comment: "Cannot be predicted until B would have changed; planned against the current system: not clustered", plan: 1},
				"D": {res: "true", plan: 1},
				"E": {res: "false", comment: "plan of E", plan: 1},
			},
		},
		{
			name: "onchanges fires on a predicted change",
			test: true,
			states: []st{
				{id: "A", args: changes},
				{id: "B", args: changes, req: on(state.OnChanges, "A")},
				{id: "C", args: clean},
				{id: "D", args: changes, req: on(state.OnChanges, "C")},
			},
			want: map[string]want{
				"A": {res: "none", changed: true, plan: 1},
				"B": {res: "none", changed: true, plan: 1},
				"C": {res: "true", plan: 1},
				"D": {res: "true", comment: "none of the onchanges reqs changed"},
			},
		},
		{
			name: "onfail fires on a predicted failure",
			test: true,
			states: []st{
				{id: "A", args: fails},
				{id: "H", args: changes, req: on(state.OnFail, "A")},
				{id: "B", args: changes},
				{id: "I", args: changes, req: on(state.OnFail, "B")},
			},
			want: map[string]want{
				"A": {res: "false", plan: 1},
				"H": {res: "none", changed: true, plan: 1},
				"B": {res: "none", changed: true, plan: 1},
				"I": {res: "true", comment: "onfail req did not change"},
			},
		},
		{
			name: "watch fires mod_watch in test mode",
			test: true,
			states: []st{
				{id: "A", args: changes},
				{id: "W", mod: "fakew", args: clean, req: on(state.Watch, "A")},
			},
			want: map[string]want{
				"A": {res: "none", changed: true, plan: 1},
				"W": {res: "none", comment: "mod_watch of W (test=true)", changed: true, plan: 1, watch: 1},
			},
		},
		{
			name: "prereq in test mode plans both",
			test: true,
			states: []st{
				{id: "X", args: changes, req: on(state.Prereq, "Y")},
				{id: "Y", args: changes},
				{id: "P", args: changes, req: on(state.Prereq, "Q")},
				{id: "Q", args: clean},
			},
			want: map[string]want{
				"X": {res: "none", changed: true, plan: 1},
				"Y": {res: "none", changed: true, plan: 2},
				"P": {res: "true", comment: "No changes detected"},
				"Q": {res: "true", plan: 2},
			},
		},
	})
}

func TestFailhard(t *testing.T) {
	runCases(t, []engineCase{
		{
			name:     "global failhard stops after the first failure",
			failhard: true,
			states: []st{
				{id: "A", args: changes},
				{id: "B", args: fails},
				{id: "C", args: changes},
				{id: "D", args: changes},
			},
			want: map[string]want{
				"A": {res: "true", changed: true, plan: 1, apply: 1},
				"B": {res: "false", plan: 1, apply: 1},
				"C": {}, "D": {},
			},
			stoppedBy: "B", notRun: 2,
		},
		{
			name: "state failhard stops; other failures do not",
			states: []st{
				{id: "A", args: fails},
				{id: "B", args: fails, failhard: true},
				{id: "C", args: changes},
			},
			want: map[string]want{
				"A": {res: "false", plan: 1, apply: 1},
				"B": {res: "false", plan: 1, apply: 1},
				"C": {},
			},
			stoppedBy: "B", notRun: 1,
		},
		{
			name: "a requisite failure of a failhard state stops",
			states: []st{
				{id: "A", args: fails},
				{id: "B", failhard: true, req: on(state.Require, "A")},
				{id: "C", args: changes},
			},
			want: map[string]want{
				"A": {res: "false", plan: 1, apply: 1},
				"B": {res: "false", comment: "requisite failed"},
				"C": {},
			},
			stoppedBy: "B", notRun: 1,
		},
		{
			name:     "failhard in test mode stops on a predicted failure, not on None",
			test:     true,
			failhard: true,
			states: []st{
				{id: "A", args: changes},
				{id: "B", args: fails},
				{id: "C", args: changes},
			},
			want: map[string]want{
				"A": {res: "none", changed: true, plan: 1},
				"B": {res: "false", plan: 1},
				"C": {},
			},
			stoppedBy: "B", notRun: 1,
		},
		{
			name: "onfail handlers of the failhard state still run",
			states: []st{
				{id: "A", args: clean},
				{id: "B", args: fails, failhard: true},
				{id: "C", args: changes},
				{id: "H", args: changes, req: on(state.OnFail, "B")},
				{id: "I", args: changes, req: on(state.OnFail, "A")},
			},
			want: map[string]want{
				"A": {res: "true", plan: 1},
				"B": {res: "false", plan: 1, apply: 1},
				"C": {},
				"H": {res: "true", changed: true, plan: 1, apply: 1},
				"I": {},
			},
			stoppedBy: "B", notRun: 2,
		},
		{
			name: "an onfail handler requiring a state cut off by failhard fails",
			states: []st{
				{id: "B", args: fails, failhard: true},
				{id: "C", args: changes},
				{id: "H", args: changes, req: map[state.ReqKind][]string{state.OnFail: {"B"}, state.Require: {"C"}}},
			},
			want: map[string]want{
				"B": {res: "false", plan: 1, apply: 1},
				"C": {},
				"H": {res: "false", comment: "One or more requisite was not run: s.C"},
			},
			stoppedBy: "B", notRun: 1,
		},
	})
}

func TestTimeoutsAndPanics(t *testing.T) {
	runCases(t, []engineCase{
		{
			name: "state timeout fails the state; the run continues",
			states: []st{
				{id: "A", args: map[string]any{"block": "plan"}, timeout: 20 * time.Millisecond},
				{id: "B", args: map[string]any{"changes": true, "block": "apply"}, timeout: 30 * time.Millisecond},
				{id: "C", args: changes},
			},
			want: map[string]want{
				"A": {res: "false", comment: "State timed out after 20ms during plan", plan: 1},
				"B": {res: "false", comment: "State timed out after 30ms during apply", plan: 1, apply: 1},
				"C": {res: "true", changed: true, plan: 1, apply: 1},
			},
		},
		{
			name: "a module ignoring its context does not hold the run",
			states: []st{
				{id: "A", args: map[string]any{"hang": "plan"}, timeout: 20 * time.Millisecond},
				{id: "B", args: changes},
			},
			want: map[string]want{
				"A": {res: "false", comment: "State timed out after 20ms during plan", plan: 1},
				"B": {res: "true", changed: true, plan: 1, apply: 1},
			},
		},
		{
			name: "a panicking module fails only that state",
			states: []st{
				{id: "A", args: map[string]any{"panic": "plan"}},
				{id: "B", args: map[string]any{"changes": true, "panic": "apply"}},
				{id: "C", args: changes},
				{id: "W", mod: "fakew", args: map[string]any{"panic": "mod_watch"}, req: on(state.Watch, "C")},
				{id: "D", args: changes},
			},
			want: map[string]want{
				"A": {res: "false", comment: "Module fake panicked during plan: boom in plan", plan: 1},
				"B": {res: "false", comment: "Module fake panicked during apply: boom in apply", plan: 1, apply: 1},
				"C": {res: "true", changed: true, plan: 1, apply: 1},
				"W": {res: "false", comment: "plan of W\nModule fakew panicked during mod_watch", plan: 1, watch: 1},
				"D": {res: "true", changed: true, plan: 1, apply: 1},
			},
		},
	})
}

func TestDefaultTimeout(t *testing.T) {
	f := newFake("fake")
	c := build(t, st{id: "A", args: map[string]any{"block": "plan"}})
	start := time.Now()
	run := engine.Execute(context.Background(), c, module.NewRegistry(f),
		engine.Options{DefaultTimeout: 25 * time.Millisecond})
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("run took %s", d)
	}
	r := run.Results[0]
	if !r.Failed() || r.Comment != "State timed out after 25ms during plan" {
		t.Fatalf("got %s %q", resultString(r), r.Comment)
	}
}

// TestIdempotentRerun: the second apply of a converged system makes no
// Apply call at all.
func TestIdempotentRerun(t *testing.T) {
	f := newFake("fake")
	reg := module.NewRegistry(f)
	c := build(t,
		st{id: "A", args: map[string]any{"converge": true}},
		st{id: "B", args: map[string]any{"converge": true}, req: on(state.Require, "A")},
	)
	first := engine.Execute(context.Background(), c, reg, engine.Options{})
	for _, r := range first.Results {
		if !r.Succeeded() || !r.Changed() {
			t.Fatalf("first run %s: %s %v", r.ID, resultString(r), r.Changes)
		}
	}
	second := engine.Execute(context.Background(), c, reg, engine.Options{})
	for _, r := range second.Results {
		if resultString(r) != "true" || r.Changed() || r.Comment != r.ID+" is in the desired state" {
			t.Errorf("second run %s: %s %v %q", r.ID, resultString(r), r.Changes, r.Comment)
		}
	}
	for _, id := range []string{"A", "B"} {
		if n := f.counts(id); n.plan != 2 || n.apply != 1 {
			t.Errorf("%s: plan/apply = %d/%d, want 2/1", id, n.plan, n.apply)
		}
	}
}

func TestSecretsScrubbed(t *testing.T) {
	const pw = "hunter2-s3cr3t"
	f := newFake("fake")
	c := build(t,
		st{id: "A", args: map[string]any{"changes": true, "echo": true, "password": pw}},
		st{id: "B", args: map[string]any{"quote": "leaked " + pw + " and 4242"}},
		st{id: "C", args: map[string]any{"panic": "plan", "password": pw}},
		st{id: "D", args: map[string]any{"pins": []any{4242}, "quote": "pin 4242"}},
	)
	run := engine.Execute(context.Background(), c, module.NewRegistry(f), engine.Options{})
	for _, r := range run.Results {
		blob := r.Tag + r.Name + r.Comment + fmtAny(r.Changes)
		if strings.Contains(blob, pw) || strings.Contains(blob, "4242") {
			t.Errorf("%s leaks a secret: %s", r.ID, blob)
		}
	}
	a := run.Results[0]
	if a.Comment != "applied A pw=******" {
		t.Errorf("A comment %q", a.Comment)
	}
	if got := a.Changes["password"].(map[string]any)["new"]; got != "******" {
		t.Errorf("A changes.password.new = %v", got)
	}
	if got := a.Changes["note ******"].([]any)[0]; got != "set to ******" {
		t.Errorf("A changes note = %v", got)
	}
	if got := a.Changes["typed"].(map[string]any)["k"]; got != "******" {
		t.Errorf("A changes typed = %v", got)
	}
	if got := run.Results[2].Comment; got != "Module fake panicked during plan: boom in plan of ******" {
		t.Errorf("C comment %q", got)
	}
	// The module itself still gets the real value.
	for _, call := range f.calls {
		if call.ID == "A" && call.Args["password"] != pw {
			t.Errorf("module got password %v", call.Args["password"])
		}
	}
}

// fmtAny renders v deterministically (encoding/json sorts map keys).
func fmtAny(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// recorder is an Observer that checks the start/finish protocol.
type recorder struct {
	t        *testing.T
	started  []string
	finished []*state.Result
	onFinish func(r *state.Result)
}

func (o *recorder) StateStarted(s *state.State) {
	if len(o.started) != len(o.finished) {
		o.t.Errorf("%s started while another state runs", s.ID)
	}
	o.started = append(o.started, s.ID)
}

func (o *recorder) StateFinished(r *state.Result) {
	o.finished = append(o.finished, r)
	if o.onFinish != nil {
		o.onFinish(r)
	}
}

func TestDeterministicRunAndObserver(t *testing.T) {
	decl := []st{
		{id: "A", args: changes},
		{id: "B", args: clean, req: on(state.OnChanges, "A")},
		{id: "X", args: changes, req: on(state.Prereq, "C")},
		{id: "C", args: changes, req: on(state.Require, "B")},
		{id: "D", args: fails},
		{id: "E", req: on(state.OnFail, "D")},
	}
	var runs [][]state.Result
	for i := 0; i < 3; i++ {
		obs := &recorder{t: t}
		run := engine.Execute(context.Background(), build(t, decl...),
			module.NewRegistry(newFake("fake")), engine.Options{Now: tick(), Observer: obs})
		if len(obs.finished) != len(run.Results) || strings.Join(obs.started, ",") != "A,B,X,C,D,E" {
			t.Fatalf("observer saw %v / %d, results %d", obs.started, len(obs.finished), len(run.Results))
		}
		var got []state.Result
		for j, r := range run.Results {
			if obs.finished[j] != r || r.ID != decl[j].id || r.RunNum != j {
				t.Fatalf("result %d is %s run %d", j, r.ID, r.RunNum)
			}
			if r.Duration <= 0 || r.StartTime.IsZero() {
				t.Errorf("%s: start %v duration %v", r.ID, r.StartTime, r.Duration)
			}
			got = append(got, *r)
		}
		runs = append(runs, got)
	}
	for i := 1; i < len(runs); i++ {
		for j := range runs[0] {
			a, b := runs[0][j], runs[i][j]
			if a.Tag != b.Tag || a.Comment != b.Comment || resultString(&a) != resultString(&b) ||
				!a.StartTime.Equal(b.StartTime) || a.Duration != b.Duration || fmtAny(a.Changes) != fmtAny(b.Changes) {
				t.Errorf("run %d differs at %d: %+v vs %+v", i, j, a, b)
			}
		}
	}
}

func TestCancelStopsStartingStates(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	obs := &recorder{t: t, onFinish: func(r *state.Result) {
		if r.ID == "A" {
			cancel()
		}
	}}
	f := newFake("fake")
	c := build(t, st{id: "A", args: changes}, st{id: "B", args: changes}, st{id: "C", args: changes})
	run := engine.Execute(ctx, c, module.NewRegistry(f), engine.Options{Observer: obs})
	if !run.Interrupted || run.NotRun != 2 || len(run.Results) != 1 || run.Failhard {
		t.Fatalf("interrupted=%v notRun=%d results=%d stopped=%v", run.Interrupted, run.NotRun, len(run.Results), run.Failhard)
	}
	if n := f.counts("B"); n.plan != 0 {
		t.Errorf("B planned after cancel")
	}
}

func TestCancelInterruptsRunningState(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := build(t, st{id: "A", args: map[string]any{"block": "plan"}}, st{id: "B", args: changes})
	time.AfterFunc(20*time.Millisecond, cancel)
	run := engine.Execute(ctx, c, module.NewRegistry(newFake("fake")), engine.Options{})
	if !run.Interrupted || run.NotRun != 1 || len(run.Results) != 1 {
		t.Fatalf("interrupted=%v notRun=%d results=%d", run.Interrupted, run.NotRun, len(run.Results))
	}
	if r := run.Results[0]; !r.Failed() || r.Comment != "State was interrupted during plan: context canceled" {
		t.Errorf("A: %s %q", resultString(r), r.Comment)
	}
}

// TestCancelWaitsForApplyCleanup: an apply whose context ends (interrupt,
// timeout) is given a grace period to clean up (revoke what it created,
// re-read what it did), and what it then reports is the state's result;
// the run does not end under it.
func TestCancelWaitsForApplyCleanup(t *testing.T) {
	for _, tc := range []struct {
		name      string
		timeout   time.Duration
		interrupt bool
	}{{"interrupt", 0, true}, {"state timeout", 30 * time.Millisecond, false}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			c := build(t, st{id: "A", args: map[string]any{"changes": true, "cleanup": "apply"}, timeout: tc.timeout})
			if tc.interrupt {
				time.AfterFunc(30*time.Millisecond, cancel)
			}
			run := engine.Execute(ctx, c, module.NewRegistry(newFake("fake")), engine.Options{})
			if len(run.Results) != 1 || run.Interrupted != tc.interrupt {
				t.Fatalf("results=%d interrupted=%v", len(run.Results), run.Interrupted)
			}
			if r := run.Results[0]; r.Failed() || r.Comment != "applied A" || r.Duration < 200*time.Millisecond {
				t.Errorf("A: %s %q after %v", resultString(r), r.Comment, r.Duration)
			}
		})
	}
}

// TestCallArgs: modules get a copy of the arguments, the target and the
// mode; a module mutating its args cannot change the compiled state.
func TestCallArgs(t *testing.T) {
	f := newFake("fake")
	c := build(t, st{id: "A", args: map[string]any{"changes": true, "x": 1}})
	target := &module.Target{Name: "node2"}
	engine.Execute(context.Background(), c, module.NewRegistry(f), engine.Options{Target: target})
	if len(f.calls) != 2 {
		t.Fatalf("%d calls", len(f.calls))
	}
	call := f.calls[0]
	if call.Target != target || call.Test || call.Name != "A" || call.SLS != "s" || call.Function != "run" || call.Args["x"] != 1 {
		t.Errorf("call %+v", call)
	}
	call.Args["x"] = 2
	if c.States[0].Args["x"] != 1 {
		t.Errorf("compiled args changed through the call")
	}
}

// TestSecretsShared: a run's secret set given in Options masks the caller's
// values (a pillar secret quoted in a comment) in results, and receives the
// engine's (arguments declared Secret) for the caller's own output.
func TestSecretsShared(t *testing.T) {
	const pw, pillarSecret = "hunter2-s3cr3t", "pillar-only-secret"
	set := &secret.Set{}
	set.Add(pillarSecret)
	c := build(t,
		st{id: "A", args: map[string]any{"password": pw}},
		st{id: "B", args: map[string]any{"quote": "quoted " + pillarSecret}},
	)
	run := engine.Execute(context.Background(), c, module.NewRegistry(newFake("fake")), engine.Options{Secrets: set})
	for _, r := range run.Results {
		if strings.Contains(r.Comment+fmtAny(r.Changes), pillarSecret) {
			t.Errorf("%s leaks the caller's secret: %s", r.ID, r.Comment)
		}
	}
	if got := set.String("error: " + pw); got != "error: ******" {
		t.Errorf("caller's set did not learn the Secret argument: %q", got)
	}
}
