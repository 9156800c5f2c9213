package compile

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/statectl/statectl/runner/render"
	"github.com/statectl/statectl/runner/slstree"
	"gopkg.in/yaml.v3"
)

// Top-level keys of an SLS file that are not state IDs.
const (
	keyInclude = "include"
	keyExtend  = "extend"
	keyExclude = "exclude"
)

// slsFile is one rendered and parsed SLS file.
type slsFile struct {
	name     string
	file     string // relative to the state root
	ids      []*idDecl
	extends  []*idDecl // bodies of extend:, parsed like declarations
	excludes []exclusion
}

type exclusion struct {
	sls, id string
}

// idDecl is one ID declaration: one or more module blocks.
type idDecl struct {
	id       string
	sls      string
	file     string
	line     int
	decls    []*decl
	excluded bool
}

// decl is one module block of an ID (`test.nop: [...]` or `test: [nop, ...]`).
type decl struct {
	module   string
	function string
	file     string
	line     int
	fnLine   int
	items    []item   // arguments and keywords, in declaration order
	reqs     []reqRef // requisites, in declaration order
}

// item is one `- key: value` entry.
type item struct {
	key  string
	val  *yaml.Node
	file string
	line int
}

// reqRef is one requisite target as written.
type reqRef struct {
	kind string // require, require_in, use, ...
	mod  string // module, "sls", "id", or "" for a bare ID-or-name
	val  string
	file string
	line int
}

func (r reqRef) String() string {
	mod := r.mod
	if mod == "" {
		mod = "id"
	}
	return fmt.Sprintf("[%s: (%s: %s)]", r.kind, mod, r.val)
}

// missingSLSHint suggests the SLS a missing name was meant to be: the name
// without a .sls suffix, or close names in the state tree.
func (c *compiler) missingSLSHint(name string) string {
	names, _ := c.tree.Names()
	if trimmed, ok := strings.CutSuffix(name, ".sls"); ok && slices.Contains(names, trimmed) {
		return fmt.Sprintf("SLS names leave out the .sls suffix: '%s'", trimmed)
	}
	if h := didYouMean(name, names); h != "" {
		return h
	}
	return fmt.Sprintf("'%s' would be %s.sls or %s/init.sls in the state tree %s",
		name, strings.ReplaceAll(name, ".", "/"), strings.ReplaceAll(name, ".", "/"), c.opts.Root)
}

func validSLSName(name string) bool {
	if name == "" || strings.ContainsAny(name, `/\`) {
		return false
	}
	for _, p := range strings.Split(name, ".") {
		if p == "" {
			return false
		}
	}
	return true
}

// load renders and parses one SLS and, depth first, what it includes. Files
// are appended to c.fileOrder after their includes, which is Salt's order:
// included states come before the including file's own.
func (c *compiler) load(name string, from ref, includer string) {
	if _, seen := c.files[name]; seen {
		return
	}
	if !validSLSName(name) {
		c.loadFailed = true
		c.errs.add(&Error{File: from.file, Line: from.line, SLS: includer, Msg: fmt.Sprintf("invalid SLS name '%s'", name),
			Hint: "SLS names are dotted paths below the state root, e.g. incus.cluster"})
		return
	}
	rel, isInit, ok, err := c.tree.Resolve(name)
	if err != nil {
		c.loadFailed = true
		c.errs.add(&Error{File: from.file, Line: from.line, SLS: includer, Msg: fmt.Sprintf("failed to load SLS '%s': %v", name, err)})
		return
	}
	if !ok {
		c.loadFailed = true
		e := &Error{File: from.file, Line: from.line, SLS: includer,
			Msg: fmt.Sprintf("No matching sls found for '%s' in env '%s'", name, c.env)}
		if includer != "" {
			e.Msg += fmt.Sprintf(" (included by SLS '%s')", includer)
		}
		e.Hint = c.missingSLSHint(name)
		c.errs.add(e)
		return
	}
	f := &slsFile{name: name, file: rel}
	c.files[name] = f
	doc, err := c.tree.Render(c.opts.Renderer, rel, c.opts.context(name))
	if err != nil {
		c.loadFailed = true
		c.errs.add(renderError(rel, name, err))
		return
	}
	includes := c.parseFile(f, doc, isInit)
	for _, inc := range includes {
		c.load(inc.sls, ref{file: rel, line: inc.line}, name)
	}
	c.fileOrder = append(c.fileOrder, f)
	for _, d := range f.ids {
		if prev, dup := c.ids[d.id]; dup {
			c.loadFailed = true
			c.errs.add(&Error{File: d.file, Line: d.line, SLS: d.sls, ID: d.id, Msg: fmt.Sprintf(
				"Detected conflicting IDs, SLS IDs need to be globally unique. The conflicting ID is '%s' and is found in SLS '%s:%s' and SLS '%s:%s'",
				d.id, c.env, prev.sls, c.env, d.sls)})
			continue
		}
		c.ids[d.id] = d
	}
}

// renderError wraps a render failure, taking the location render found
// (which may be a template the file imports).
func renderError(rel, sls string, err error) *Error {
	e := &Error{File: rel, SLS: sls, Msg: err.Error(), Err: err}
	var re *render.Error
	if errors.As(err, &re) && re.File != "" {
		e.File, e.Line = re.File, re.Line
	}
	return e
}

type include struct {
	sls  string
	line int
}

// parseFile reads the rendered document of f. It returns the includes (in
// order, resolved to absolute SLS names) for the caller to load.
func (c *compiler) parseFile(f *slsFile, doc *yaml.Node, isInit bool) []include {
	root := deref(doc)
	if root != nil && root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return nil
		}
		root = deref(root.Content[0])
	}
	if isNull(root) {
		return nil // an empty file is {}
	}
	if root.Kind != yaml.MappingNode {
		c.loadFailed = true
		c.errs.add(&Error{File: f.file, Line: root.Line, SLS: f.name,
			Msg: fmt.Sprintf("SLS '%s' does not render to a mapping of state IDs (got %s)", f.name, kindName(root))})
		return nil
	}
	var incs []include
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := deref(root.Content[i]), deref(root.Content[i+1])
		key, ok := scalar(k)
		if !ok {
			c.errs.add(&Error{File: f.file, Line: k.Line, SLS: f.name, Msg: "state ID must be a string, got " + kindName(k)})
			continue
		}
		switch key {
		case keyInclude:
			incs = append(incs, c.parseIncludes(f, v, isInit)...)
		case keyExtend:
			c.parseExtend(f, v)
		case keyExclude:
			c.parseExcludes(f, v)
		default:
			if d := c.parseID(f, key, k.Line, v, false); d != nil {
				f.ids = append(f.ids, d)
			}
		}
	}
	return incs
}

func (c *compiler) parseIncludes(f *slsFile, v *yaml.Node, isInit bool) []include {
	if isNull(v) {
		return nil
	}
	if v.Kind != yaml.SequenceNode {
		c.errs.add(&Error{File: f.file, Line: v.Line, SLS: f.name, Msg: "include must be a list of SLS names"})
		return nil
	}
	var out []include
	for _, it := range v.Content {
		it = deref(it)
		name, ok := scalar(it)
		if !ok {
			c.errs.add(&Error{File: f.file, Line: it.Line, SLS: f.name, Msg: "include items must be SLS names, got " + kindName(it),
				Hint: "statectl does not support the `- sls: {key: ..., defaults: ...}` include form"})
			continue
		}
		abs, err := resolveRelative(name, f.name, isInit)
		if err != "" {
			c.errs.add(&Error{File: f.file, Line: it.Line, SLS: f.name, Msg: err})
			continue
		}
		out = append(out, include{sls: abs, line: it.Line})
	}
	return out
}

// resolveRelative applies Salt's relative include rules (slstree.Relative)
// and returns Salt's message for an include beyond the top.
func resolveRelative(inc, sls string, isInit bool) (string, string) {
	abs, err := slstree.Relative(inc, sls, isInit)
	if err != nil {
		return "", fmt.Sprintf("Attempted relative include of '%s' within SLS '%s' goes beyond top level package", inc, sls)
	}
	return abs, ""
}

func (c *compiler) parseExcludes(f *slsFile, v *yaml.Node) {
	if isNull(v) {
		return
	}
	if v.Kind != yaml.SequenceNode {
		c.errs.add(&Error{File: f.file, Line: v.Line, SLS: f.name, Msg: "exclude must be a list of `- sls: name` or `- id: name` items"})
		return
	}
	for _, it := range v.Content {
		it = deref(it)
		if s, ok := scalar(it); ok {
			f.excludes = append(f.excludes, exclusion{sls: s})
			continue
		}
		if it.Kind == yaml.MappingNode && len(it.Content) == 2 {
			k, _ := scalar(deref(it.Content[0]))
			val, ok := scalar(deref(it.Content[1]))
			if ok && (k == "sls" || k == "id") {
				if k == "sls" {
					f.excludes = append(f.excludes, exclusion{sls: val})
				} else {
					f.excludes = append(f.excludes, exclusion{id: val})
				}
				continue
			}
		}
		c.errs.add(&Error{File: f.file, Line: it.Line, SLS: f.name, Msg: "exclude items must be `- sls: name` or `- id: name`"})
	}
}

func (c *compiler) parseExtend(f *slsFile, v *yaml.Node) {
	if isNull(v) {
		return
	}
	if v.Kind != yaml.MappingNode {
		c.errs.add(&Error{File: f.file, Line: v.Line, SLS: f.name, Msg: "extend must be a mapping of state IDs to module blocks"})
		return
	}
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, body := deref(v.Content[i]), deref(v.Content[i+1])
		id, ok := scalar(k)
		if !ok {
			c.errs.add(&Error{File: f.file, Line: k.Line, SLS: f.name, Msg: "extended state ID must be a string, got " + kindName(k)})
			continue
		}
		f.extends = append(f.extends, c.parseID(f, id, k.Line, body, true))
	}
}

// parseID parses the body of one ID declaration. In an extend the
// function may be omitted (the extended state keeps its own).
func (c *compiler) parseID(f *slsFile, id string, line int, body *yaml.Node, extend bool) *idDecl {
	d := &idDecl{id: id, sls: f.name, file: f.file, line: line}
	errAt := func(l int, format string, a ...any) {
		c.errs.add(&Error{File: f.file, Line: l, SLS: f.name, ID: id,
			Msg: fmt.Sprintf("state '%s' in SLS '%s': ", id, f.name) + fmt.Sprintf(format, a...)})
	}
	// Short form: `ID: test.nop`.
	if s, ok := scalar(body); ok && strings.Contains(s, ".") {
		mod, fn, _ := strings.Cut(s, ".")
		d.decls = append(d.decls, &decl{module: mod, function: fn, file: f.file, line: body.Line, fnLine: body.Line})
		return d
	}
	if body.Kind != yaml.MappingNode {
		errAt(body.Line, "must be a mapping of module.function to a list of arguments, got %s", kindName(body))
		return d // still registered, so extends and conflicts see it
	}
	seen := map[string]string{}
	for i := 0; i+1 < len(body.Content); i += 2 {
		k, v := deref(body.Content[i]), deref(body.Content[i+1])
		key, ok := scalar(k)
		if !ok {
			errAt(k.Line, "module key must be a string, got %s", kindName(k))
			continue
		}
		if strings.HasPrefix(key, "__") {
			continue // Salt's internal keys (__sls__, __env__)
		}
		mod, fn, _ := strings.Cut(key, ".")
		if mod == "" {
			errAt(k.Line, "invalid module declaration '%s'", key)
			continue
		}
		if prev, dup := seen[mod]; dup {
			errAt(k.Line, "declares module '%s' twice ('%s' and '%s'); use one ID per state of the same module", mod, prev, key)
			continue
		}
		seen[mod] = key
		dc := &decl{module: mod, function: fn, file: f.file, line: k.Line}
		if fn != "" {
			dc.fnLine = k.Line
		}
		if !isNull(v) {
			if v.Kind != yaml.SequenceNode {
				errAt(v.Line, "arguments of '%s' must be a list of `- name: value` items, got %s", key, kindName(v))
				continue
			}
			c.parseItems(f.file, dc, v.Content, errAt)
		}
		if dc.function == "" && !extend {
			errAt(k.Line, "no function given for module '%s'", mod)
			hintLast(&c.errs, "write `"+mod+".function:` or put the function name in the list, e.g. `- present`")
			continue
		}
		d.decls = append(d.decls, dc)
	}
	if len(d.decls) == 0 && len(seen) == 0 {
		errAt(line, "declares no module function")
	}
	return d
}

func hintLast(l *errList, hint string) {
	if n := len(l.errs); n > 0 {
		l.errs[n-1].Hint = hint
	}
}

// parseItems reads the `- key: value` list of a module block (and the
// per-name overrides of names:).
func (c *compiler) parseItems(file string, dc *decl, list []*yaml.Node, errAt func(int, string, ...any)) {
	seen := map[string]bool{}
	for _, it := range list {
		it = deref(it)
		if s, ok := scalar(it); ok {
			if dc.function != "" {
				errAt(it.Line, "function given twice for module '%s' ('%s' and '%s')", dc.module, dc.function, s)
				continue
			}
			dc.function, dc.fnLine = s, it.Line
			continue
		}
		if it.Kind != yaml.MappingNode || len(it.Content) != 2 {
			errAt(it.Line, "each argument must be a single `- name: value` item, got %s", describeItem(it))
			continue
		}
		k, v := deref(it.Content[0]), deref(it.Content[1])
		key, ok := scalar(k)
		if !ok {
			errAt(k.Line, "argument name must be a string, got %s", kindName(k))
			continue
		}
		if kind, isReq := reqKeywords[key]; isReq {
			c.parseReqs(file, dc, kind, v, errAt)
			continue
		}
		if seen[key] {
			errAt(k.Line, "argument '%s' given twice", key)
			continue
		}
		seen[key] = true
		dc.items = append(dc.items, item{key: key, val: v, file: file, line: k.Line})
	}
}

func (c *compiler) parseReqs(file string, dc *decl, kind string, v *yaml.Node, errAt func(int, string, ...any)) {
	targets := []*yaml.Node{v}
	if v.Kind == yaml.SequenceNode {
		targets = v.Content
	}
	for _, t := range targets {
		t = deref(t)
		if s, ok := scalar(t); ok {
			dc.reqs = append(dc.reqs, reqRef{kind: kind, val: s, file: file, line: t.Line})
			continue
		}
		if t.Kind == yaml.MappingNode && len(t.Content) > 0 {
			for i := 0; i+1 < len(t.Content); i += 2 {
				mod, ok1 := scalar(deref(t.Content[i]))
				val, ok2 := scalar(deref(t.Content[i+1]))
				if !ok1 || !ok2 {
					errAt(t.Content[i].Line, "%s target must be `- module: id-or-name`, `- sls: name` or a bare ID", kind)
					continue
				}
				dc.reqs = append(dc.reqs, reqRef{kind: kind, mod: mod, val: val, file: file, line: t.Content[i].Line})
			}
			continue
		}
		errAt(t.Line, "%s target must be `- module: id-or-name`, `- sls: name` or a bare ID, got %s", kind, kindName(t))
	}
}

// reqKeywords maps each requisite keyword to itself; the set is what is
// recognised as a requisite rather than an argument.
var reqKeywords = map[string]string{}

func init() {
	for _, k := range []string{"require", "watch", "onchanges", "onfail", "prereq", "use"} {
		reqKeywords[k] = k
		reqKeywords[k+"_in"] = k + "_in"
	}
}

// YAML node helpers shared with the top file parser.
var (
	deref        = slstree.Deref
	isNull       = slstree.IsNull
	scalar       = slstree.Scalar
	kindName     = slstree.KindName
	describeItem = slstree.DescribeItem
)
