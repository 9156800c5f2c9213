// Package module defines the one interface every state module implements,
// built-in (incus, test) or out-of-process plugin. The engine only ever sees
// this interface, so it cannot tell the two kinds apart.
package module

import (
	"context"
	"encoding/json"
	"sort"
	"sync"
)

// Module serves a set of state functions (incus.cluster_member_present, ...).
//
// The split between Plan and Apply is what makes test mode honest: test mode
// calls Plan only, and Plan must not change anything.
type Module interface {
	// Name is the module part of "module.function".
	Name() string
	// Functions describes every function the module serves; the engine
	// validates arguments against it before anything runs, and docs are
	// generated from it.
	Functions() []FuncSpec
	// Validate checks a call offline beyond what the schema expresses
	// (e.g. "one of a or b is required"). Schema checks have already passed.
	Validate(call *Call) error
	// Plan reads the live system and says what Apply would change. It has
	// no side effects.
	Plan(ctx context.Context, call *Call) (*Plan, error)
	// Apply performs the plan idempotently. It receives the Plan returned by
	// Plan for the same call (with its Private data, e.g. ETags), so a
	// concurrent change between plan and apply is detected, not overwritten.
	Apply(ctx context.Context, call *Call, plan *Plan) (*Outcome, error)
}

// Watcher is implemented by modules that act when a watched state changed
// (Salt's mod_watch). Modules without it treat watch like require.
type Watcher interface {
	ModWatch(ctx context.Context, call *Call, test bool) (*Outcome, error)
}

// RunValidator is implemented by modules whose checks span states: two
// states of one compiled run that manage the same thing and disagree
// (a member's groups and a group's members). Compile calls ValidateRun
// once per module, after every state passed Validate, with the module's
// calls in run order; each CallError is reported against its state.
type RunValidator interface {
	ValidateRun(calls []*Call) []CallError
}

// CallError is a problem RunValidator found with the state ID.
type CallError struct {
	ID  string
	Err error
}

// ArgType is the type an argument must have after YAML decoding.
type ArgType string

const (
	TypeAny        ArgType = "any"
	TypeString     ArgType = "string" // strings; numbers and booleans are accepted and stringified by the module if it wants
	TypeBool       ArgType = "bool"
	TypeInt        ArgType = "int"
	TypeList       ArgType = "list"
	TypeMap        ArgType = "map"
	TypeStringList ArgType = "string_list" // a string or a list of strings
)

// Known reports whether t is a type this version understands.
func (t ArgType) Known() bool {
	switch t {
	case TypeAny, TypeString, TypeBool, TypeInt, TypeList, TypeMap, TypeStringList:
		return true
	}
	return false
}

// Accepts reports whether v, a YAML-decoded value (string, int, float64,
// bool, []any, map[string]any), has type t. Scalars are accepted as
// strings because YAML turns unquoted 8443 or true into numbers and
// booleans; modules stringify them. Unknown types accept anything.
func (t ArgType) Accepts(v any) bool {
	switch t {
	case TypeString:
		switch v.(type) {
		case string, int, int64, uint64, float64, bool:
			return true
		}
		return false
	case TypeBool:
		_, ok := v.(bool)
		return ok
	case TypeInt:
		switch v.(type) {
		case int, int64, uint64:
			return true
		}
		return false
	case TypeList:
		_, ok := v.([]any)
		return ok
	case TypeMap:
		_, ok := v.(map[string]any)
		return ok
	case TypeStringList:
		switch x := v.(type) {
		case string:
			return true
		case []any:
			for _, e := range x {
				switch e.(type) {
				case string, int, int64, uint64, float64:
				default:
					return false
				}
			}
			return true
		}
		return false
	}
	return true
}

// ArgSpec documents and types one argument.
type ArgSpec struct {
	Name     string  `json:"name"`
	Type     ArgType `json:"type"`
	Required bool    `json:"required,omitempty"`
	Default  any     `json:"default,omitempty"`
	Secret   bool    `json:"secret,omitempty"` // masked in every output, log and error
	Doc      string  `json:"doc"`
}

// FuncSpec documents one state function.
type FuncSpec struct {
	Name string    `json:"name"` // without the module prefix
	Doc  string    `json:"doc"`
	Args []ArgSpec `json:"args"`
	// First says a target with a state of this function runs before the
	// other targets of a run (a cluster's bootstrap, which the others'
	// joins need), whatever order the target expression gives.
	First bool `json:"first,omitempty"`
}

// Arg returns the spec of the named argument.
func (f FuncSpec) Arg(name string) (ArgSpec, bool) {
	for _, a := range f.Args {
		if a.Name == name {
			return a, true
		}
	}
	return ArgSpec{}, false
}

// Target is what a module knows about the machine a run is for.
type Target struct {
	Name   string         `json:"name"`   // roster name; grain id
	Roster map[string]any `json:"roster"` // the roster entry (connection fields), grains excluded
	Grains map[string]any `json:"grains"`
	// Pillar is the target's rendered pillar, for modules that render
	// templates with the same context as the states (file.managed).
	Pillar map[string]any `json:"pillar,omitempty"`
	// StateRoot is the state tree directory, against which modules resolve
	// salt:// and relative file sources.
	StateRoot string `json:"state_root,omitempty"`
}

// Call is one state invocation.
type Call struct {
	// Upstream is what the states run before this one in the same run
	// planned or did, in run order (earlier targets first). The engine is
	// the only channel between states (mgmt's send/recv): a module reads
	// what an earlier state sent here, never from its own memory, so its
	// Plan stays free of side effects.
	Upstream []Upstream `json:"upstream,omitempty"`

	ID       string         `json:"id"`
	SLS      string         `json:"sls"`
	Function string         `json:"function"` // without the module prefix
	Name     string         `json:"name"`
	Args     map[string]any `json:"args"` // all arguments, "name" included; requisites excluded
	Test     bool           `json:"test"`
	Target   *Target        `json:"target"`
}

// Action is what a plan would do, for reports and for the states after it.
type Action string

const (
	NoOp      Action = "no-op"
	Create    Action = "create"
	Update    Action = "update"
	Delete    Action = "delete"
	Bootstrap Action = "bootstrap" // a cluster is created on the target
	Join      Action = "join"      // a server joins a cluster
)

// Status is what became of an upstream state.
type Status string

const (
	// Pending: test mode predicted a change that has not been made.
	Pending Status = "pending"
	// Applied: the state changed the system in this run.
	Applied Status = "applied"
	// Unchanged: the state was converged (or skipped by a requisite).
	Unchanged Status = "unchanged"
	// Failed: the state failed; what it planned did not happen.
	Failed Status = "failed"
)

// Upstream is one earlier state of the run, as later states see it.
type Upstream struct {
	Target   string            `json:"target"`
	ID       string            `json:"id"`
	Module   string            `json:"module"`
	Function string            `json:"function"`
	Name     string            `json:"name"`
	Action   Action            `json:"action,omitempty"`
	Status   Status            `json:"status"`
	Send     map[string]string `json:"send,omitempty"`
}

// Plan is what a function would do.
type Plan struct {
	// Action says what kind of change Changes is; the engine derives it
	// (no-op or update) when a module leaves it empty.
	Action Action `json:"action,omitempty"`
	// Deferred, when set, says why the plan cannot be predicted yet: a
	// state this one depends on would change first (test mode). The
	// result is None with this reason, not a prediction (Terraform's
	// deferred changes). The engine sets it too (see engine.defer).
	Deferred string `json:"deferred,omitempty"`
	// Send holds values for the states after this one (Upstream.Send);
	// never secrets: they are not masked.
	Send map[string]string `json:"send,omitempty"`
	// Changes predicted, Salt's shape ({key: {old, new}}). Empty means
	// converged: Apply is not called and the result is True.
	Changes map[string]any `json:"changes,omitempty"`
	Comment string         `json:"comment,omitempty"`
	// Fail says the state would fail (e.g. an address mismatch that cannot
	// be fixed in place). Test mode reports it as result False.
	Fail bool `json:"fail,omitempty"`
	// Private is module-only data handed back to Apply (ETags, ids).
	Private json.RawMessage `json:"private,omitempty"`
}

// Outcome is what Apply (or ModWatch) did.
type Outcome struct {
	Failed  bool           `json:"failed,omitempty"`
	Changes map[string]any `json:"changes,omitempty"`
	Comment string         `json:"comment,omitempty"`
}

// Registry maps module names to modules. Modules not added up front may
// come from a Resolver (plugins), loaded on first lookup. A Registry is
// safe for concurrent use.
type Registry struct {
	mu       sync.Mutex
	mods     map[string]Module
	resolver Resolver
	// failed records resolver errors, so a module that failed to load is
	// not retried and the error can be reported (Err).
	failed map[string]error
}

// NewRegistry returns a registry holding mods.
func NewRegistry(mods ...Module) *Registry {
	r := &Registry{mods: map[string]Module{}, failed: map[string]error{}}
	for _, m := range mods {
		r.Add(m)
	}
	return r
}

// Add registers m, replacing a module of the same name.
func (r *Registry) Add(m Module) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.mods[m.Name()] = m
}

// Get returns the named module: a registered one, else one the resolver
// loads now. A module that failed to load is reported missing; Err says
// why.
func (r *Registry) Get(name string) (Module, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if m, ok := r.mods[name]; ok {
		return m, true
	}
	if r.resolver == nil || r.failed[name] != nil {
		return nil, false
	}
	m, err := r.resolver.Resolve(name)
	if err != nil {
		r.failed[name] = err
		return nil, false
	}
	if m == nil {
		return nil, false
	}
	r.mods[name] = m
	return m, true
}

// Names lists the registered modules and those the resolver can load,
// sorted, without loading any.
func (r *Registry) Names() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := make(map[string]bool, len(r.mods))
	names := make([]string, 0, len(r.mods))
	for n := range r.mods {
		seen[n] = true
		names = append(names, n)
	}
	if r.resolver != nil {
		for _, n := range r.resolver.Names() {
			if !seen[n] {
				seen[n] = true
				names = append(names, n)
			}
		}
	}
	sort.Strings(names)
	return names
}

// Func returns the spec of module.function.
func (r *Registry) Func(mod, fn string) (Module, FuncSpec, bool) {
	m, ok := r.Get(mod)
	if !ok {
		return nil, FuncSpec{}, false
	}
	for _, f := range m.Functions() {
		if f.Name == fn {
			return m, f, true
		}
	}
	return m, FuncSpec{}, false
}
