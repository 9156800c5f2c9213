// Package compile turns SLS files into a validated, ordered
// state.Compiled: it resolves top.sls and includes, applies extend and
// exclude, expands names, resolves requisites (including the _in forms and
// use), validates every state against the module registry and orders the
// result. Nothing is run here; every problem is reported with its file and
// line before anything touches a cluster.
//
// Semantics follow Salt where statectl users rely on them:
//
//   - Each SLS file is rendered once per compile, however often it is
//     included. Included files' states come before the including file's
//     own (Salt's include order); top.sls order is kept.
//   - extend is applied before exclude (as in Salt): requisites append,
//     other arguments replace, a function replaces, name and names replace
//     each other, a module not yet declared on the ID is added.
//   - Requisite targets: `mod: x` (ID or name x, module mod), `sls: x`
//     (every state of SLS x but the declaring state), `id: x`, or a bare x
//     (ID or name, any module). _in forms become the plain form on the
//     named states; use copies arguments the state does not set.
//   - Run order: states are taken by order key (order: first, numbered
//     ascending, unordered, order: last; declaration order breaking ties)
//     and each state's not-yet-placed requisites are placed, recursively
//     and in key order, immediately before it. This is what Salt does at
//     run time, so output reads in the order Salt users expect; a plain
//     Kahn's algorithm would instead run a state's requisite after every
//     unrelated state declared before that requisite.
//
// Errors are returned as Errors (one or more *Error), all problems of a
// phase at once: loading (missing/unrenderable files, conflicting IDs),
// structure (declarations, keywords, extend), then requisites and
// validation together, then cycles.
package compile

import (
	"github.com/statectl/statectl/runner/module"
	"github.com/statectl/statectl/runner/render"
	"github.com/statectl/statectl/runner/slstree"
	"github.com/statectl/statectl/runner/state"
	"github.com/statectl/statectl/runner/target"
	"gopkg.in/yaml.v3"
)

// FileRenderer renders one file below the state root into a YAML node.
// *render.Renderer implements it.
type FileRenderer interface {
	RenderFile(rel string, ctx *render.Context) (*yaml.Node, error)
}

// Options says what to compile and for whom.
type Options struct {
	Root     string           // state root (has top.sls)
	Target   *target.Subject  // id, grains, pillar: top.sls matching and template context
	Registry *module.Registry // for validation; nil skips validation (structure only)
	Saltenv  string           // "base" when empty
	Opts     map[string]any   // the templates' opts
	// Renderer renders the files; nil means render.New(Root). Pass one to
	// share its template cache across compiles (e.g. a drift loop).
	Renderer FileRenderer
	// GrainsOrder and PillarOrder are the key orders of Target's grains
	// and pillar (roster.Entry.GrainsOrder, pillar.CompileOrdered), so
	// templates iterate them in file order as Salt's do; nil: sorted.
	GrainsOrder, PillarOrder *render.KeyOrder
}

func (o *Options) saltenv() string {
	if o.Saltenv == "" {
		return "base"
	}
	return o.Saltenv
}

func (o *Options) renderer() FileRenderer {
	if o.Renderer != nil {
		return o.Renderer
	}
	return render.New(o.Root)
}

func (o *Options) subject() *target.Subject {
	if o.Target != nil {
		return o.Target
	}
	return &target.Subject{}
}

func (o *Options) context(sls string) *render.Context {
	s := o.subject()
	return &render.Context{Grains: s.Grains, Pillar: s.Pillar, Opts: o.Opts, Saltenv: o.saltenv(), SLS: sls,
		GrainsOrder: o.GrainsOrder, PillarOrder: o.PillarOrder}
}

// Highstate compiles the SLS files top.sls assigns to the target.
func Highstate(opts Options) (*state.Compiled, error) {
	opts.Renderer = opts.renderer()
	top, err := topSLS(&opts)
	if err != nil {
		return nil, err
	}
	if len(top) == 0 {
		return nil, Errors{{File: topFile, Msg: "No Top file or master_tops data matches found for target '" + opts.subject().ID + "'",
			Hint: "check the targets in top.sls against `statectl grains`"}}
	}
	names := make([]string, len(top))
	from := make([]ref, len(top))
	for i, t := range top {
		names[i] = t.sls
		from[i] = ref{file: topFile, line: t.line}
	}
	return compileNames(&opts, names, from)
}

// SLS compiles the named SLS files (and what they include), in the order
// given.
func SLS(opts Options, names ...string) (*state.Compiled, error) {
	opts.Renderer = opts.renderer()
	return compileNames(&opts, names, make([]ref, len(names)))
}

// TopSLS returns the SLS names top.sls assigns to the target, in top-file
// order without duplicates.
func TopSLS(opts Options) ([]string, error) {
	opts.Renderer = opts.renderer()
	top, err := topSLS(&opts)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(top))
	for i, t := range top {
		out[i] = t.sls
	}
	return out, nil
}

// compiler holds the state of one compile.
type compiler struct {
	opts *Options
	tree *slstree.Tree // the state root, confined
	env  string
	errs errList
	// loadFailed is set when a file could not be found, rendered or
	// parsed as a whole, or IDs conflict.
	loadFailed bool
	files      map[string]*slsFile // by SLS name, including files that failed
	fileOrder  []*slsFile          // includes before includers (Salt's order)
	ids        map[string]*idDecl
	nodes      []*node // expanded states, declaration order
	byID       map[string][]int
	byName     map[string][]int
	bySLS      map[string][]int
	uses       map[int][]useLink
}

// ref locates where something was asked for (an include line, a top.sls
// line); the zero value means the caller asked directly.
type ref struct {
	file string
	line int
}

// compileNames runs the phases in order. Each phase collects all its
// errors; a phase with errors stops the compile, so later phases never
// report consequences of earlier problems.
func compileNames(o *Options, names []string, from []ref) (*state.Compiled, error) {
	tree := slstree.Open(o.Root)
	defer tree.Close()
	c := &compiler{opts: o, tree: tree, env: o.saltenv(), files: map[string]*slsFile{}, ids: map[string]*idDecl{}}
	for i, n := range names {
		c.load(n, from[i], "")
	}
	// A file that failed to render or load hides its states and includes:
	// anything reported past this point could be a consequence.
	if c.loadFailed {
		return nil, c.errs.err()
	}
	c.applyExtends()
	c.applyExcludes()
	c.expand()
	if err := c.errs.err(); err != nil {
		return nil, err
	}
	c.index()
	c.resolveRequisites()
	if c.resolveUse() && o.Registry != nil {
		c.validate()
	}
	if err := c.errs.err(); err != nil {
		return nil, err
	}
	order := c.order()
	if err := c.errs.err(); err != nil {
		return nil, err
	}
	return c.build(order), nil
}
