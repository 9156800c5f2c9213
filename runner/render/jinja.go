package render

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"sync"

	"github.com/nikolalohinski/gonja/v2/builtins"
	"github.com/nikolalohinski/gonja/v2/config"
	"github.com/nikolalohinski/gonja/v2/exec"
	"github.com/nikolalohinski/gonja/v2/loaders"
	"github.com/nikolalohinski/gonja/v2/nodes"
	"github.com/nikolalohinski/gonja/v2/parser"
)

// stateKey is the context variable holding the per-render state for the
// control structures that load other templates.
const stateKey = "__statectl_render__"

// jinjaConfig matches Salt's Jinja2 environment: trim_blocks and
// lstrip_blocks off, StrictUndefined, no autoescaping, and the final
// newline kept (Salt re-appends the newline Jinja2 strips).
func jinjaConfig() *config.Config {
	c := config.New()
	c.StrictUndefined = true
	c.KeepTrailingNewline = true
	c.AutoEscape = false
	c.TrimBlocks = false
	c.LeftStripBlocks = false
	return c
}

var (
	envOnce sync.Once
	envVal  *exec.Environment
	cfgVal  = jinjaConfig()
	// cfgSub is for included and imported templates: Jinja2 strips their
	// final newline and Salt only re-appends the top file's.
	cfgSub = func() *config.Config { c := jinjaConfig(); c.KeepTrailingNewline = false; return c }()
)

// jinjaEnv is gonja's environment with Salt's filters, tests and tags.
// It holds no per-render state, so it is built once and shared.
func jinjaEnv() *exec.Environment {
	envOnce.Do(func() {
		filters := exec.NewFilterSet(map[string]exec.FilterFunction{}).Update(builtins.Filters)
		filters.Update(exec.NewFilterSet(map[string]exec.FilterFunction{"attr": pyAttrFilter}))
		filters.Update(exec.NewFilterSet(saltFilters()))
		filters.Update(exec.NewFilterSet(orderFilters()))
		filters.Update(exec.NewFilterSet(operatorFilters()))
		filters.Update(exec.NewFilterSet(pyFilters(filters)))
		tests := exec.NewTestSet(map[string]exec.TestFunction{}).Update(builtins.Tests)
		tests.Update(exec.NewTestSet(pyTests()))
		tests.Update(exec.NewTestSet(saltTests()))
		cs := exec.NewControlStructureSet(map[string]parser.ControlStructureParser{}).Update(builtins.ControlStructures)
		cs.Update(exec.NewControlStructureSet(saltControlStructures()))
		envVal = &exec.Environment{
			Context: exec.EmptyContext().Update(builtins.GlobalFunctions).Update(builtins.GlobalVariables).
				Update(exec.NewContext(map[string]any{"dict": pyDictBuiltin, "range": limitedRange})),
			Filters:           filters,
			Tests:             tests,
			ControlStructures: cs,
			Methods: exec.Methods{
				Bool: builtins.Methods.Bool, Int: builtins.Methods.Int, Float: builtins.Methods.Float,
				Str: strMethods(), Dict: builtins.Methods.Dict, List: builtins.Methods.List,
			},
		}
	})
	return envVal
}

// jinjaTemplate is a parsed template and its source, kept for error context.
type jinjaTemplate struct {
	name string
	src  string
	tpl  *exec.Template
}

// template parses name (with source src) once per Renderer; top is false
// for templates loaded by another one.
func (r *Renderer) template(name string, src []byte, top bool) (*jinjaTemplate, error) {
	sum := sha256.Sum256(src)
	key := fmt.Sprintf("\x00tpl:%t:%s:%x", top, name, sum)
	e := r.entry(key)
	e.tMu.Lock()
	defer e.tMu.Unlock()
	if e.tpl != nil || e.tErr != nil {
		return e.tpl, e.tErr
	}
	e.tpl, e.tErr = parseTemplate(r, name, src, top)
	return e.tpl, e.tErr
}

func parseTemplate(r *Renderer, name string, src []byte, top bool) (t *jinjaTemplate, err error) {
	defer func() {
		if p := recover(); p != nil {
			t, err = nil, &Error{File: name, Msg: fmt.Sprintf("Jinja syntax error: template parser crashed: %v", p), src: string(src)}
		}
	}()
	cfg := cfgVal
	if !top {
		cfg = cfgSub
	}
	ld := &rootLoader{r: r, dir: path.Dir(name), name: name, src: fixStringLiterals(src)}
	tpl, err := exec.NewTemplate(name, cfg, ld, jinjaEnv())
	if err != nil {
		return nil, syntaxError(name, string(src), err)
	}
	adaptTree(tpl.Root())
	return &jinjaTemplate{name: name, src: string(src), tpl: tpl}, nil
}

// renderJinja renders one template file with the Salt context.
func (r *Renderer) renderJinja(name string, src []byte, ctx *Context) ([]byte, error) {
	jt, err := r.template(name, src, true)
	if err != nil {
		var re *Error
		if errors.As(err, &re) {
			re.SLS = SLSLabel(ctx)
			re.Top = name
		}
		return nil, err
	}
	st := &renderState{r: r, ctx: ctx, top: name}
	var out bytes.Buffer
	if err := st.execute(jt, st.globals(name), &limitedWriter{w: &out, n: maxOutput}); err != nil {
		return nil, st.wrap(jt, err)
	}
	return out.Bytes(), nil
}

// renderState is what one render shares with the templates it loads.
type renderState struct {
	// causes are errors seen by filters, kept with their types (see passErr).
	causes []error
	r      *Renderer
	ctx    *Context
	top    string
	depth  int
	// macroDepth counts nested macro calls (see parseMacro).
	macroDepth int
	data       struct {
		once                 sync.Once
		grains, pillar, opts any
		salt                 *saltFuncs
	}
}

const maxDepth = 32

// globals is Salt's template context for file name: data, salt functions
// and the sls/tpl path variables. Salt passes these as globals, so they
// are visible in imported templates with or without context.
func (st *renderState) globals(name string) *exec.Context {
	st.data.once.Do(func() {
		var c Context
		if st.ctx != nil {
			c = *st.ctx
		}
		st.data.grains = toPyOrdered(nonNil(c.Grains), c.GrainsOrder)
		st.data.pillar = toPyOrdered(nonNil(c.Pillar), c.PillarOrder)
		st.data.opts = toPy(nonNil(c.Opts))
		st.data.salt = newSaltFuncs(st.data.grains.(pyDict), st.data.pillar.(pyDict), st.data.opts.(pyDict))
	})
	saltenv, sls := "base", ""
	if st.ctx != nil {
		if st.ctx.Saltenv != "" {
			saltenv = st.ctx.Saltenv
		}
		sls = st.ctx.SLS
	}
	m := map[string]any{
		"grains":   st.data.grains,
		"pillar":   st.data.pillar,
		"opts":     st.data.opts,
		"__opts__": st.data.opts,
		"salt":     st.data.salt,
		"raise":    raiseFunc,
		"saltenv":  saltenv,
		"env":      saltenv,
		"sls":      sls,
		stateKey:   st,
	}
	for k, v := range slsPaths(name, sls) {
		m[k] = v
	}
	return exec.NewContext(m)
}

func nonNil(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// slsPaths derives Salt's tpldir, slspath and friends. For sls
// "incus.cluster" in incus/cluster.sls both tpldir and slspath are "incus".
func slsPaths(file, sls string) map[string]any {
	tpldir := path.Dir(file)
	slspath := ""
	if sls != "" {
		slspath = tpldir
		if slspath == "." {
			slspath = ""
		}
	}
	return map[string]any{
		"tplpath":      file,
		"tplfile":      file,
		"tpldir":       tpldir,
		"tpldot":       strings.ReplaceAll(strings.TrimPrefix(tpldir, "."), "/", "."),
		"slspath":      slspath,
		"slsdotpath":   strings.ReplaceAll(slspath, "/", "."),
		"slscolonpath": strings.ReplaceAll(slspath, "/", ":"),
		"sls_path":     strings.ReplaceAll(slspath, "/", "_"),
	}
}

// execute runs a parsed template with data as its context, writing to w.
// gonja panics on some malformed input; that becomes an error.
func (st *renderState) execute(jt *jinjaTemplate, data *exec.Context, w io.Writer) (err error) {
	env := jinjaEnv()
	renv := &exec.Environment{
		Context:           env.Context.Inherit().Update(data),
		Filters:           env.Filters,
		Tests:             env.Tests,
		ControlStructures: env.ControlStructures,
		Methods:           env.Methods,
	}
	_, err = st.run(jt, renv, w)
	return err
}

// run executes jt in environment renv and returns the context it ran in,
// whose variables are the template's exports.
func (st *renderState) run(jt *jinjaTemplate, renv *exec.Environment, w io.Writer) (ctx *exec.Context, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("template engine crashed: %v", p)
		}
	}()
	ld := &rootLoader{r: st.r, dir: path.Dir(jt.name), name: jt.name, src: []byte(jt.src)}
	rr := exec.NewRenderer(renv, w, cfgVal, ld, jt.tpl)
	return renv.Context, rr.Execute()
}

// rootLoader resolves template names as Salt does: relative to the file
// root, or to the importing template's directory when they start with
// "./" or "../". It serves the template being parsed from memory.
type rootLoader struct {
	r    *Renderer
	dir  string
	name string
	src  []byte
	// depth counts the extends chain; gonja loads parents while parsing.
	depth int
}

func (l *rootLoader) Resolve(name string) (string, error) {
	p := name
	if strings.HasPrefix(name, "./") || strings.HasPrefix(name, "../") {
		p = path.Join(l.dir, name)
	}
	p = path.Clean(strings.TrimPrefix(p, "/"))
	if p == ".." || strings.HasPrefix(p, "../") {
		return "", fmt.Errorf("template %q is outside the file root", name)
	}
	return p, nil
}

func (l *rootLoader) Read(name string) (io.Reader, error) {
	p, err := l.Resolve(name)
	if err != nil {
		return nil, err
	}
	if p == l.name && l.src != nil {
		return bytes.NewReader(l.src), nil
	}
	if l.depth >= maxDepth {
		return nil, errors.New(errExtendsDepth)
	}
	src, err := l.r.source(p)
	if err != nil {
		return nil, err
	}
	return bytes.NewReader(src), nil
}

func (l *rootLoader) Inherit(from string) (loaders.Loader, error) {
	p, err := l.Resolve(from)
	if err != nil {
		return nil, err
	}
	return &rootLoader{r: l.r, dir: path.Dir(p), depth: l.depth + 1}, nil
}

// wrapLiteral rewrites a literal into a conversion filter call and a
// binary operator whose gonja semantics differ from Python's into
// "left | __op(right)".
func wrapLiteral(n nodes.Expression) nodes.Expression {
	if be, ok := n.(*nodes.BinaryExpression); ok {
		if f, ok := pyOperators[be.Operator.Token.Type]; ok {
			return &nodes.FilteredExpression{
				Expression: be.Left,
				Filters:    []*nodes.FilterCall{{Token: be.Operator.Token, Name: f, Args: []nodes.Expression{be.Right}}},
			}
		}
		return n
	}
	switch v := n.(type) {
	case *nodes.Name:
		// Jinja2's lexer makes none/None, true/True and false/False
		// constants; gonja forgets lowercase none.
		if v.Name.Val == "none" {
			return &nodes.None{Location: v.Name}
		}
	case *nodes.None:
		// gonja reads "nil" as None; in Jinja2 it is an ordinary name.
		if v.Location != nil && v.Location.Val == "nil" {
			return &nodes.Name{Name: v.Location}
		}
	case *nodes.List:
		return wrapFilter(n, "__list")
	case *nodes.Tuple:
		return wrapFilter(n, "__tuple")
	case *nodes.Dict:
		return wrapFilter(n, "__dict")
	}
	return n
}

func wrapFilter(n nodes.Expression, filter string) nodes.Expression {
	return &nodes.FilteredExpression{
		Expression: n,
		Filters:    []*nodes.FilterCall{{Token: n.Position(), Name: filter}},
	}
}
