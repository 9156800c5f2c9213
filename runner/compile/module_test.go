package compile

import (
	"context"
	"errors"

	"github.com/statectl/statectl/runner/module"
)

// fakeModule is a schema-only module for compile tests: compile never
// calls Plan or Apply.
type fakeModule struct {
	name     string
	funcs    []module.FuncSpec
	validate func(*module.Call) error
}

func (m *fakeModule) Name() string                     { return m.name }
func (m *fakeModule) Functions() []module.FuncSpec     { return m.funcs }
func (m *fakeModule) Validate(call *module.Call) error { return m.validate(call) }
func (m *fakeModule) Plan(context.Context, *module.Call) (*module.Plan, error) {
	return nil, errors.New("compile tests never plan")
}
func (m *fakeModule) Apply(context.Context, *module.Call, *module.Plan) (*module.Outcome, error) {
	return nil, errors.New("compile tests never apply")
}

func testRegistry() *module.Registry {
	noop := func(*module.Call) error { return nil }
	test := &fakeModule{name: "test", validate: noop, funcs: []module.FuncSpec{
		{Name: "nop"},
		{Name: "succeed_without_changes"},
		{Name: "succeed_with_changes"},
		{Name: "configurable_test_state", Args: []module.ArgSpec{
			{Name: "changes", Type: module.TypeBool},
			{Name: "result", Type: module.TypeAny},
			{Name: "comment", Type: module.TypeString},
		}},
	}}
	demo := &fakeModule{name: "demo", funcs: []module.FuncSpec{
		{Name: "member", Args: []module.ArgSpec{
			{Name: "address", Type: module.TypeString, Required: true},
			{Name: "password", Type: module.TypeString, Secret: true},
			{Name: "force", Type: module.TypeBool},
			{Name: "port", Type: module.TypeInt},
			{Name: "tags", Type: module.TypeStringList},
			{Name: "config", Type: module.TypeMap},
			{Name: "items", Type: module.TypeList},
		}},
		{Name: "absent", Args: []module.ArgSpec{{Name: "force", Type: module.TypeBool}}},
	}, validate: func(call *module.Call) error {
		if p, ok := call.Args["port"].(int); ok && p > 65535 {
			return errors.New("port must be at most 65535")
		}
		return nil
	}}
	pkg := &fakeModule{name: "pkg", validate: noop, funcs: []module.FuncSpec{
		{Name: "installed", Args: []module.ArgSpec{{Name: "version", Type: module.TypeString}}},
		{Name: "removed"},
	}}
	return module.NewRegistry(test, demo, pkg)
}
