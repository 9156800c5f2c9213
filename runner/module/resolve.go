package module

import (
	"maps"
	"slices"
)

// Resolver supplies modules that are not registered up front, such as
// out-of-process plugins, which should only start when a state uses them.
type Resolver interface {
	// Names lists the modules the resolver can supply, without loading any.
	Names() []string
	// Resolve loads the named module. It returns (nil, nil) when it has no
	// such module, and an error naming the module when loading failed.
	Resolve(name string) (Module, error)
}

// SetResolver makes r supply the modules not registered with Add. Added
// modules win over resolved ones of the same name.
func (r *Registry) SetResolver(res Resolver) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.resolver = res
}

// Err returns why the named module failed to load through the resolver, or
// nil.
func (r *Registry) Err(name string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failed[name]
}

// Errs returns every resolver error so far, by module name order.
func (r *Registry) Errs() []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return byName(r.failed)
}

// Loaded returns the modules registered or resolved so far, by name order;
// unlike Names it never includes a module that was not loaded, so releasing
// resources through it starts nothing.
func (r *Registry) Loaded() []Module {
	r.mu.Lock()
	defer r.mu.Unlock()
	return byName(r.mods)
}

// byName lists m's values in key order.
func byName[V any](m map[string]V) []V {
	out := make([]V, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, m[k])
	}
	return out
}
