// Package pillar compiles a target's pillar as Salt does: top.sls selects
// pillar SLS files for the target, each is rendered (jinja|yaml by default)
// and merged in order, later files winning, dicts merging recursively and
// lists being replaced; the CLI override is merged last.
package pillar

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/statectl/statectl/runner/grains"
	"github.com/statectl/statectl/runner/render"
	"github.com/statectl/statectl/runner/slstree"
	"github.com/statectl/statectl/runner/target"
)

// TopFile is the pillar top file below the pillar root.
const TopFile = "top.sls"

// Error is any failure to compile a pillar: a template or YAML error, a
// missing SLS, a malformed top file or include. A run must not proceed
// without its pillar; the CLI exits 5 on it.
type Error struct {
	File string // below the pillar root, e.g. "top.sls" or "incus/cluster.sls"
	SLS  string // dotted SLS name; "" for top.sls
	Line int    // 1-based; 0 when Err carries its own position
	Err  error
}

func (e *Error) Error() string {
	loc := e.File
	// A render error quotes its own line and context.
	if _, ok := errors.AsType[*render.Error](e.Err); e.Line > 0 && !ok {
		loc = fmt.Sprintf("%s:%d", loc, e.Line)
	}
	return fmt.Sprintf("failed to compile pillar: %s: %v", loc, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Compile returns the pillar of target id: the SLS files top.sls assigns to
// it, rendered with its grains and merged in order, then override. Templates
// see the pillar merged so far (starting with override) as `pillar`. A
// missing root or top.sls yields override alone. Every error is an *Error.
func Compile(root, id string, grainsData, override map[string]any) (map[string]any, error) {
	p, _, err := CompileOrdered(root, id, grainsData, override, nil)
	return p, err
}

// CompileOrdered is Compile that also returns the pillar's key order, for
// templates that iterate it (render.Context.PillarOrder). The order is
// Salt's: the pillar starts as a copy of override (its keys sorted, as it
// has no file), then each file merges in as Python's dict update does: a
// key already there keeps its place, new keys follow in file order.
// grainsOrder is the order of grainsData for the pillar's own templates
// (nil: sorted).
func CompileOrdered(root, id string, grainsData, override map[string]any, grainsOrder *render.KeyOrder) (map[string]any, *render.KeyOrder, error) {
	c := newCompiler(root, id, grainsData, override)
	defer c.tree.Close()
	c.grainsOrder = grainsOrder
	matches, err := c.top()
	if err != nil {
		return nil, nil, err
	}
	for _, m := range matches {
		data, order, err := c.load(m)
		if err != nil {
			return nil, nil, err
		}
		c.pillar, c.order = MergeOrdered(c.pillar, c.order, data, order)
	}
	p, order := MergeOrdered(c.pillar, c.order, override, nil)
	return p, order, nil
}

// Top returns the pillar SLS names top.sls assigns to target id, in merge
// order (includes not expanded).
func Top(root, id string, grainsData, override map[string]any) ([]string, error) {
	c := newCompiler(root, id, grainsData, override)
	defer c.tree.Close()
	matches, err := c.top()
	if err != nil {
		return nil, err
	}
	names := make([]string, len(matches))
	for i, m := range matches {
		names[i] = m.sls
	}
	return names, nil
}

// Merge merges src into dst recursively and returns dst: a dict merges
// into a dict, anything else (lists included) replaces. src is deep-copied,
// so the result never aliases it. A nil dst is allocated.
func Merge(dst, src map[string]any) map[string]any {
	if dst == nil {
		dst = map[string]any{}
	}
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				dst[k] = Merge(dm, sm)
				continue
			}
		}
		dst[k] = grains.Plain(v)
	}
	return dst
}

// MergeOrdered is Merge that also merges the key orders of dst and src
// (either may be nil: sorted) as Salt's dictupdate.update does with Python
// dicts: a key of dst keeps its place, keys new to dst follow in src's
// order, and a replaced value takes src's order. It returns the merged map
// (dst) and a new order; neither input order is modified.
func MergeOrdered(dst map[string]any, dstOrder *render.KeyOrder, src map[string]any, srcOrder *render.KeyOrder) (map[string]any, *render.KeyOrder) {
	if dst == nil {
		dst = map[string]any{}
	}
	out := &render.KeyOrder{Keys: dstOrder.Ordered(dst)}
	fields := map[string]*render.KeyOrder{}
	for _, k := range out.Keys {
		if f := dstOrder.Field(k); f != nil {
			fields[k] = f
		}
	}
	for _, k := range srcOrder.Ordered(src) {
		v := src[k]
		old, existed := dst[k]
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := old.(map[string]any); ok {
				dst[k], fields[k] = MergeOrdered(dm, fields[k], sm, srcOrder.Field(k))
				continue
			}
		}
		dst[k] = grains.Plain(v)
		if f := srcOrder.Field(k); f != nil {
			fields[k] = f
		} else {
			delete(fields, k)
		}
		if !existed {
			out.Keys = append(out.Keys, k)
		}
	}
	if len(fields) > 0 {
		out.Fields = fields
	}
	return dst, out
}

type compiler struct {
	root        string
	id          string
	grains      map[string]any
	grainsOrder *render.KeyOrder
	override    map[string]any
	pillar      map[string]any
	order       *render.KeyOrder // of pillar
	rend        *render.Renderer
	tree        *slstree.Tree // the pillar root, confined
	rendered    map[string]bool
}

func newCompiler(root, id string, grainsData, override map[string]any) *compiler {
	return &compiler{
		root:     root,
		id:       id,
		grains:   grainsData,
		override: grains.Clone(override),
		pillar:   Merge(nil, override),
		rend:     render.New(root),
		tree:     slstree.Open(root),
		rendered: map[string]bool{},
	}
}

func (c *compiler) context(sls string) *render.Context {
	return &render.Context{
		Grains:      c.grains,
		GrainsOrder: c.grainsOrder,
		Pillar:      grains.Clone(c.pillar), // templates may mutate their copy
		PillarOrder: c.order,
		Saltenv:     "base",
		SLS:         sls,
	}
}

// ref is one reference to an SLS: from the top file or an include.
type ref struct {
	sls           string
	from          string // file holding the reference
	line          int
	ignoreMissing bool
	key           string // nest the data under this colon-separated key
}

func (c *compiler) top() ([]ref, error) {
	if ok, err := c.tree.Exists(TopFile); err != nil {
		return nil, &Error{File: TopFile, Err: err}
	} else if !ok {
		return nil, nil
	}
	ctx := c.context("")
	ctx.Pillar, ctx.PillarOrder = grains.Clone(c.override), nil
	doc, err := c.tree.Render(c.rend, TopFile, ctx)
	if err != nil {
		return nil, &Error{File: TopFile, Line: renderLine(err, TopFile), Err: err}
	}
	if doc == nil {
		return nil, nil
	}
	entries, topErrs := slstree.Top(doc, "base", &target.Subject{ID: c.id, Grains: c.grains, Pillar: c.override})
	if len(topErrs) > 0 {
		// A pillar error stops the run; the first problem is enough.
		return nil, &Error{File: TopFile, Line: topErrs[0].Line, Err: fmt.Errorf("invalid top file: %s", topErrs[0].Msg)}
	}
	out := make([]ref, 0, len(entries))
	for _, e := range entries {
		name, err := slsName(e.SLS)
		if err != nil {
			return nil, &Error{File: TopFile, Line: e.Line, Err: err}
		}
		out = append(out, ref{sls: name, from: TopFile, line: e.Line, ignoreMissing: e.IgnoreMissing})
	}
	return out, nil
}

// load renders the SLS r names, with its includes, and returns its data
// and key order (nil when r is skipped: already rendered in this compile,
// which also breaks include cycles as Salt does, or missing and allowed to
// be).
func (c *compiler) load(r ref) (map[string]any, *render.KeyOrder, error) {
	if c.rendered[r.sls] {
		return nil, nil, nil
	}
	file, _, ok, err := c.tree.Resolve(r.sls)
	if err != nil {
		return nil, nil, &Error{File: r.from, Line: r.line, Err: fmt.Errorf("failed to load SLS '%s': %w", r.sls, err)}
	}
	if !ok {
		if r.ignoreMissing {
			return nil, nil, nil
		}
		return nil, nil, &Error{File: r.from, Line: r.line, Err: fmt.Errorf(
			"specified SLS '%s' in environment 'base' is not available: no %s.sls or %s/init.sls in the pillar root",
			r.sls, slsPath(r.sls), slsPath(r.sls))}
	}
	c.rendered[r.sls] = true
	data, order, err := c.renderFile(r.sls, file)
	if err != nil {
		return nil, nil, err
	}
	if r.key != "" {
		keys := strings.Split(r.key, ":")
		for i := len(keys) - 1; i >= 0; i-- {
			data = map[string]any{keys[i]: data}
			order = &render.KeyOrder{Keys: []string{keys[i]}, Fields: map[string]*render.KeyOrder{keys[i]: order}}
		}
	}
	return data, order, nil
}

// renderFile renders one pillar SLS and returns its data and key order
// with its includes merged in first, so the file's own data wins over what
// it includes (and included keys come first, as in Salt).
func (c *compiler) renderFile(sls, file string) (map[string]any, *render.KeyOrder, error) {
	fail := func(line int, err error) error {
		return &Error{File: file, SLS: sls, Line: line, Err: err}
	}
	doc, err := c.tree.Render(c.rend, file, c.context(sls))
	if err != nil {
		return nil, nil, fail(renderLine(err, file), err)
	}
	root := doc
	if root != nil && root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	if root == nil || isNull(root) {
		return map[string]any{}, nil, nil
	}
	if root.Kind != yaml.MappingNode {
		return nil, nil, fail(root.Line, fmt.Errorf("SLS '%s' does not render to a dictionary but to %s", sls, kindName(root)))
	}
	data, order, err := toMap(root)
	if err != nil {
		return nil, nil, fail(root.Line, err)
	}
	incNode := mappingValue(root, "include")
	if incNode == nil {
		return data, order, nil
	}
	delete(data, "include")
	refs, err := c.includes(sls, file, incNode)
	if err != nil {
		return nil, nil, err
	}
	var (
		included      map[string]any
		includedOrder *render.KeyOrder
	)
	for _, r := range refs {
		d, o, err := c.load(r)
		if err != nil {
			return nil, nil, err
		}
		included, includedOrder = MergeOrdered(included, includedOrder, d, o)
	}
	data, order = MergeOrdered(included, includedOrder, data, order)
	return data, order, nil
}

// includes reads an include list: names (relative ".x" allowed, globs
// expanded against the pillar root) or {name: {key: a:b}} mappings.
func (c *compiler) includes(sls, file string, n *yaml.Node) ([]ref, error) {
	errAt := func(at *yaml.Node, err error) error {
		return &Error{File: file, SLS: sls, Line: at.Line, Err: err}
	}
	if n.Kind != yaml.SequenceNode {
		return nil, errAt(n, fmt.Errorf("include must be a list of SLS names, not %s", kindName(n)))
	}
	var out []ref
	for _, it := range n.Content {
		var name, key string
		switch it.Kind {
		case yaml.ScalarNode:
			name = it.Value
		case yaml.MappingNode:
			if len(it.Content) != 2 {
				return nil, errAt(it, fmt.Errorf("an include mapping must have exactly one SLS name"))
			}
			name = it.Content[0].Value
			opts := it.Content[1]
			if opts.Kind != yaml.MappingNode {
				return nil, errAt(opts, fmt.Errorf("include options of %q must be a mapping", name))
			}
			for k := 0; k+1 < len(opts.Content); k += 2 {
				switch opts.Content[k].Value {
				case "key":
					key = opts.Content[k+1].Value
				default:
					return nil, errAt(opts.Content[k], fmt.Errorf("include option %q of %q is not supported (known: key)", opts.Content[k].Value, name))
				}
			}
		default:
			return nil, errAt(it, fmt.Errorf("expected an SLS name, not %s", kindName(it)))
		}
		resolved, err := relativeSLS(sls, file, name)
		if err != nil {
			return nil, errAt(it, err)
		}
		names := []string{resolved}
		if strings.ContainsAny(resolved, "*?[") {
			if names, err = c.tree.Glob(resolved); err != nil {
				return nil, errAt(it, err)
			}
			if len(names) == 0 {
				return nil, errAt(it, fmt.Errorf("specified SLS '%s' in environment 'base' matches no pillar SLS", resolved))
			}
		}
		for _, nm := range names {
			out = append(out, ref{sls: nm, from: file, line: it.Line, key: key})
		}
	}
	return out, nil
}

// relativeSLS resolves ".x" against the including SLS as Salt does
// (slstree.Relative).
func relativeSLS(sls, file, name string) (string, error) {
	abs, err := slstree.Relative(name, sls, path.Base(file) == "init.sls")
	if err != nil {
		return "", fmt.Errorf("relative include %q in SLS '%s' goes beyond the top of the pillar root", name, sls)
	}
	return slsName(abs)
}

// slsName normalises an SLS reference ("a/b" is "a.b") and rejects names
// that cannot name a file below the root.
func slsName(s string) (string, error) {
	s = strings.ReplaceAll(strings.TrimSpace(s), "/", ".")
	if s == "" {
		return "", fmt.Errorf("empty SLS name")
	}
	for _, c := range strings.Split(s, ".") {
		if c == "" {
			return "", fmt.Errorf("invalid SLS name %q", s)
		}
	}
	return s, nil
}

func slsPath(sls string) string { return strings.ReplaceAll(sls, ".", "/") }

// renderLine is the line of a render error in file (0 when the error is
// in another file, e.g. an imported map.jinja, or has no line).
func renderLine(err error, file string) int {
	if re, ok := errors.AsType[*render.Error](err); ok && re.File == file {
		return re.Line
	}
	return 0
}

func mappingValue(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// YAML node helpers shared with the SLS tree front end.
var (
	isNull   = slstree.IsNull
	kindName = slstree.KindName
)
