// Package state holds the compiled-state and result models shared by the
// compiler, the engine and the reports.
package state

import (
	"fmt"
	"time"
)

// ReqKind is a requisite kind. The *_in forms are inverted by the compiler
// into the plain form on the referenced state; "use" is resolved at compile
// time by copying arguments, so the engine only sees these five.
type ReqKind string

const (
	Require   ReqKind = "require"
	Watch     ReqKind = "watch"
	OnChanges ReqKind = "onchanges"
	OnFail    ReqKind = "onfail"
	Prereq    ReqKind = "prereq"
)

// Edge is a resolved requisite: this state depends on States[Index] of the
// compiled run.
type Edge struct {
	Kind  ReqKind
	Index int
}

// State is one compiled state, ready to run.
type State struct {
	ID       string
	Name     string
	SLS      string
	Module   string
	Function string
	// Args holds the function arguments, "name" included, requisite and
	// ordering keywords excluded.
	Args map[string]any
	// ArgOrder is the declaration order of Args, for deterministic output.
	ArgOrder []string
	// Deps are the resolved requisites of this state.
	Deps     []Edge
	Failhard bool
	// Timeout bounds Plan+Apply of this state (`timeout:` in seconds); 0
	// means the engine's default.
	Timeout time.Duration
	// Order is the explicit `order:` (0 when none); OrderFirst/OrderLast
	// carry `order: first|last`.
	Order      int
	OrderFirst bool
	OrderLast  bool
	// File and Line locate the ID declaration, for errors.
	File string
	Line int
}

// Tag is Salt's result key: module_|-id_|-name_|-function.
func (s *State) Tag() string {
	return fmt.Sprintf("%s_|-%s_|-%s_|-%s", s.Module, s.ID, s.Name, s.Function)
}

// Compiled is a validated run: states in execution order (requisites,
// `order` and declaration order already applied).
type Compiled struct {
	States []*State
}

// Result is one state's report. Result is nil for Salt's None (test mode,
// would change).
type Result struct {
	Tag       string         `json:"-"`
	ID        string         `json:"__id__"`
	SLS       string         `json:"__sls__"`
	RunNum    int            `json:"__run_num__"`
	Name      string         `json:"name"`
	Module    string         `json:"-"`
	Function  string         `json:"-"`
	Result    *bool          `json:"result"`
	Changes   map[string]any `json:"changes"`
	Comment   string         `json:"comment"`
	StartTime time.Time      `json:"-"`
	Duration  time.Duration  `json:"-"`
	// Action is the plan's action (module.Action) and Send what the state
	// sent to the states after it: the engine's channel between states.
	Action string            `json:"-"`
	Send   map[string]string `json:"-"`
}

// Changed reports whether the state changed (or, in test mode, would).
func (r *Result) Changed() bool { return len(r.Changes) > 0 }

// Succeeded is true for result True or None.
func (r *Result) Succeeded() bool { return r.Result == nil || *r.Result }

// Failed is true for result False.
func (r *Result) Failed() bool { return r.Result != nil && !*r.Result }

// Bool returns a pointer to b, for Result.Result.
func Bool(b bool) *bool { return &b }

// Run is one target's run: the one result model that the engine produces
// and every report format, the watch record and saved plans read.
type Run struct {
	// Target is the roster name the run was for.
	Target string
	// Test is true for a test-mode run: results with result None would
	// change.
	Test bool
	// Results holds one result per state that ran (or was skipped by a
	// requisite), in run order; Results[i].RunNum == i.
	Results []*Result
	// Failhard is true when a failhard state failed and stopped the run;
	// StoppedBy is that state's Tag.
	Failhard  bool
	StoppedBy string
	// Interrupted is true when the run was cancelled (Ctrl-C, SIGTERM)
	// before every state ran.
	Interrupted bool
	// NotRun counts the states that got no result because of Failhard or
	// Interrupted; like Salt, they are not in Results.
	NotRun int
}
