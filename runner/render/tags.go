package render

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/nikolalohinski/gonja/v2/exec"
	"github.com/nikolalohinski/gonja/v2/nodes"
	"github.com/nikolalohinski/gonja/v2/parser"
	"github.com/nikolalohinski/gonja/v2/tokens"
)

// Tags that load other files. They replace gonja's import/from/include:
// those parse the file on every use and import macros only, while Salt's
// map.jinja idiom imports variables ({% from "x/map.jinja" import x %}).
// Loaded templates come from the Renderer's cache, so each is parsed once.
func saltControlStructures() map[string]parser.ControlStructureParser {
	return map[string]parser.ControlStructureParser{
		"macro":       parseMacro,
		"extends":     parseExtends,
		"import":      parseImport(""),
		"import_yaml": parseImport("yaml"),
		"import_json": parseImport("json"),
		"import_text": parseImport("text"),
		"from":        parseFrom,
		"include":     parseInclude,
		"load_yaml":   parseLoad("yaml"),
		"load_json":   parseLoad("json"),
		"load_text":   parseLoad("text"),
	}
}

// tagBase gives a control structure its position.
type tagBase struct {
	tok  *tokens.Token
	name string
}

func (t *tagBase) Position() *tokens.Token { return t.tok }
func (t *tagBase) String() string {
	return fmt.Sprintf("%s(Line=%d Col=%d)", t.name, t.tok.Line, t.tok.Col)
}

// parseWithContext reads an optional trailing "with context" or
// "without context".
func parseWithContext(args *parser.Parser, def bool) bool {
	if tok := args.MatchName("with", "without"); tok != nil {
		if args.MatchName("context") != nil {
			return tok.Val == "with"
		}
		args.Stream().Backup()
	}
	return def
}

type importTag struct {
	tagBase
	file        nodes.Expression
	as          string
	withContext bool
	format      string // "" for a template module, else yaml/json/text
}

func parseImport(format string) parser.ControlStructureParser {
	return func(p *parser.Parser, args *parser.Parser) (nodes.ControlStructure, error) {
		t := &importTag{tagBase: tagBase{tok: p.Current(), name: "import" + suffix(format)}, format: format}
		file, err := args.ParseExpression()
		if err != nil {
			return nil, err
		}
		t.file = file
		if args.MatchName("as") == nil {
			return nil, args.Error(`expected "as" after the file name`, args.Current())
		}
		alias := args.Match(tokens.Name)
		if alias == nil {
			return nil, args.Error("expected a variable name after \"as\"", args.Current())
		}
		t.as = alias.Val
		t.withContext = parseWithContext(args, false)
		if !args.End() {
			return nil, args.Error("unexpected text after import", args.Current())
		}
		return t, nil
	}
}

func suffix(format string) string {
	if format == "" {
		return ""
	}
	return "_" + format
}

func (t *importTag) Execute(r *exec.Renderer, _ *nodes.ControlStructureBlock) error {
	mod, err := loadModule(r, t.file, t.withContext)
	if err != nil {
		return err
	}
	var v any = mod
	switch t.format {
	case "yaml":
		v, err = loadYAMLString(mod.name, mod.out)
	case "json":
		v, err = loadJSONString(mod.name, mod.out)
	case "text":
		v = mod.out
	}
	if err != nil {
		return err
	}
	r.Environment.Context.Set(t.as, v)
	return nil
}

type fromTag struct {
	tagBase
	file        nodes.Expression
	names       [][2]string // name, alias
	withContext bool
}

func parseFrom(p *parser.Parser, args *parser.Parser) (nodes.ControlStructure, error) {
	t := &fromTag{tagBase: tagBase{tok: p.Current(), name: "from"}}
	file, err := args.ParseExpression()
	if err != nil {
		return nil, err
	}
	t.file = file
	if args.MatchName("import") == nil {
		return nil, args.Error(`expected "import" after the file name`, args.Current())
	}
	for !args.End() {
		if tok := args.CurrentName("with", "without"); tok != nil && len(t.names) > 0 {
			t.withContext = parseWithContext(args, false)
			break
		}
		name := args.Match(tokens.Name)
		if name == nil {
			return nil, args.Error("expected a name to import", args.Current())
		}
		alias := name.Val
		if args.MatchName("as") != nil {
			a := args.Match(tokens.Name)
			if a == nil {
				return nil, args.Error("expected a name after \"as\"", args.Current())
			}
			alias = a.Val
		}
		t.names = append(t.names, [2]string{name.Val, alias})
		if args.Match(tokens.Comma) == nil {
			t.withContext = parseWithContext(args, false)
			break
		}
	}
	if len(t.names) == 0 {
		return nil, args.Error("expected a name to import", args.Current())
	}
	if !args.End() {
		return nil, args.Error("unexpected text after from-import", args.Current())
	}
	return t, nil
}

func (t *fromTag) Execute(r *exec.Renderer, _ *nodes.ControlStructureBlock) error {
	mod, err := loadModule(r, t.file, t.withContext)
	if err != nil {
		return err
	}
	for _, n := range t.names {
		v, ok := mod.export(n[0])
		if !ok {
			return &templateError{msg: fmt.Sprintf("the template '%s' (imported on line %d) does not export the requested name '%s'",
				mod.name, t.tok.Line, n[0])}
		}
		r.Environment.Context.Set(n[1], v)
	}
	return nil
}

type includeTag struct {
	tagBase
	file          nodes.Expression
	ignoreMissing bool
	withContext   bool
}

func parseInclude(p *parser.Parser, args *parser.Parser) (nodes.ControlStructure, error) {
	t := &includeTag{tagBase: tagBase{tok: p.Current(), name: "include"}}
	file, err := args.ParseExpression()
	if err != nil {
		return nil, err
	}
	t.file = file
	if args.MatchName("ignore") != nil {
		if args.MatchName("missing") == nil {
			return nil, args.Error(`expected "missing" after "ignore"`, args.Current())
		}
		t.ignoreMissing = true
	}
	t.withContext = parseWithContext(args, true)
	if !args.End() {
		return nil, args.Error("unexpected text after include", args.Current())
	}
	return t, nil
}

func (t *includeTag) Execute(r *exec.Renderer, _ *nodes.ControlStructureBlock) error {
	st, name, err := resolveFile(r, t.file)
	if err != nil {
		return err
	}
	if t.ignoreMissing {
		if _, err := st.r.source(name); err != nil {
			return nil
		}
	}
	_, err = st.runFile(r, name, t.withContext, r.Output)
	return err
}

// loadTag is Salt's {% load_yaml as x %}...{% endload %}.
type loadTag struct {
	tagBase
	as     string
	body   *nodes.Wrapper
	format string
}

func parseLoad(format string) parser.ControlStructureParser {
	return func(p *parser.Parser, args *parser.Parser) (nodes.ControlStructure, error) {
		t := &loadTag{tagBase: tagBase{tok: p.Current(), name: "load_" + format}, format: format}
		if args.MatchName("as") == nil {
			return nil, args.Error(`expected "as"`, args.Current())
		}
		alias := args.Match(tokens.Name)
		if alias == nil {
			return nil, args.Error("expected a variable name after \"as\"", args.Current())
		}
		t.as = alias.Val
		if !args.End() {
			return nil, args.Error("unexpected text after load tag", args.Current())
		}
		body, end, err := p.WrapUntil("endload")
		if err != nil {
			return nil, err
		}
		if !end.End() {
			return nil, end.Error("endload takes no arguments", nil)
		}
		t.body = body
		return t, nil
	}
}

func (t *loadTag) Execute(r *exec.Renderer, _ *nodes.ControlStructureBlock) error {
	var buf bytes.Buffer
	sub := r.Inherit()
	sub.Output = &buf
	if err := sub.ExecuteWrapper(t.body); err != nil {
		return err
	}
	var v any
	var err error
	switch t.format {
	case "yaml":
		v, err = loadYAMLString("<load_yaml>", buf.String())
	case "json":
		v, err = loadJSONString("<load_json>", buf.String())
	default:
		v = buf.String()
	}
	if err != nil {
		return err
	}
	r.Environment.Context.Set(t.as, v)
	return nil
}

// tplModule is an imported template: its exported variables and macros,
// and its rendered text (str(module) in Jinja).
type tplModule struct {
	name string
	ctx  *exec.Context
	out  string
}

func (m *tplModule) String() string { return m.out }

// export returns a variable or macro the module defined at top level.
func (m *tplModule) export(name string) (any, bool) {
	if strings.HasPrefix(name, "_") {
		return nil, false
	}
	data := ownVars(m.ctx)
	v, ok := data[name]
	return v, ok
}

func (m *tplModule) GetAttribute(name string) (*exec.Value, bool) {
	if v, ok := m.export(name); ok {
		return exec.AsValue(v), true
	}
	return undefinedf("'%s' has no attribute '%s'", m.name, name), false
}

func (m *tplModule) GetItem(key any) (*exec.Value, bool) { return m.GetAttribute(pyStr(key)) }

func stateOf(r *exec.Renderer) (*renderState, error) {
	v, ok := r.Environment.Context.Get(stateKey)
	if st, isState := v.(*renderState); ok && isState {
		return st, nil
	}
	return nil, &templateError{msg: "template loading is not available here"}
}

// resolveFile evaluates a file name expression relative to the template
// being rendered.
func resolveFile(r *exec.Renderer, expr nodes.Expression) (*renderState, string, error) {
	st, err := stateOf(r)
	if err != nil {
		return nil, "", err
	}
	v := r.Eval(expr)
	if v.IsError() {
		return nil, "", v
	}
	name, err := r.Loader.Resolve(pyStr(toPy(v)))
	if err != nil {
		return nil, "", &templateError{msg: err.Error()}
	}
	return st, name, nil
}

func loadModule(r *exec.Renderer, expr nodes.Expression, withContext bool) (*tplModule, error) {
	st, name, err := resolveFile(r, expr)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	ctx, err := st.runFile(r, name, withContext, &out)
	if err != nil {
		return nil, err
	}
	return &tplModule{name: name, ctx: ctx, out: out.String()}, nil
}

// runFile renders template file name, loaded with the caller's context or
// with Salt's globals only, and returns the context holding its exports.
func (st *renderState) runFile(r *exec.Renderer, name string, withContext bool, w io.Writer) (*exec.Context, error) {
	if st.depth >= maxDepth {
		return nil, &templateError{msg: fmt.Sprintf("templates nested more than %d deep (recursive import of '%s'?)", maxDepth, name)}
	}
	src, err := st.r.source(name)
	if err != nil {
		return nil, &templateError{msg: err.Error()}
	}
	_, body, err := parseShebang(name, src, nil)
	if err != nil {
		return nil, err
	}
	jt, err := st.r.template(name, body, false)
	if err != nil {
		if re := findErr[*Error](err); re != nil {
			re.SLS, re.Top = SLSLabel(st.ctx), st.top
		}
		return nil, err
	}
	env := jinjaEnv()
	var parent *exec.Context
	if withContext {
		parent = r.Environment.Context
	} else {
		parent = env.Context.Inherit().Update(st.globals(name))
	}
	renv := &exec.Environment{
		Context:           parent.Inherit(),
		Filters:           env.Filters,
		Tests:             env.Tests,
		ControlStructures: env.ControlStructures,
		Methods:           env.Methods,
	}
	st.depth++
	ctx, err := st.run(jt, renv, w)
	st.depth--
	if err != nil {
		return nil, st.wrap(jt, err)
	}
	return ctx, nil
}

// loadYAMLString parses YAML text into template values, as Salt's
// load_yaml does.
func loadYAMLString(name, text string) (any, error) {
	n, err := parseYAML(name, "", []byte(text))
	if err != nil {
		return nil, err
	}
	v, err := toPyValue(n)
	if err != nil {
		return nil, &templateError{msg: fmt.Sprintf("failed to load YAML from %s: %v", name, err)}
	}
	if n == nil {
		return nil, nil
	}
	return v, nil
}

func loadJSONString(name, text string) (any, error) {
	if strings.TrimSpace(text) == "" {
		return nil, &templateError{msg: "Unable to load json from " + name}
	}
	n, err := parseJSON(name, "", []byte(text))
	if err != nil {
		return nil, err
	}
	v, err := toPyValue(n)
	if err != nil {
		return nil, &templateError{msg: fmt.Sprintf("failed to load JSON from %s: %v", name, err)}
	}
	return v, nil
}
