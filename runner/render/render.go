// Package render turns a state or pillar file into YAML data through the
// renderer pipeline its shebang names (default jinja|yaml), as Salt does.
//
// The jinja renderer is gonja with a Python-compatibility layer (values,
// printing, filters, tags) so that templates render to what Salt's Jinja2
// renders; the differential test in this package checks that against
// Python's Jinja2.
package render

import (
	"bytes"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

// Context is what templates see. Grains and Pillar are the merged data for
// the target; SLS is the dotted SLS name of the file being rendered ("" for
// non-SLS files); tpldir and slspath are derived from it.
//
// GrainsOrder and PillarOrder, when set, give the key order of Grains and
// Pillar (their files' order, see KeyOrder); templates iterate those dicts
// in it, as Salt's do. Without them keys iterate sorted.
type Context struct {
	Grains  map[string]any
	Pillar  map[string]any
	Opts    map[string]any
	Saltenv string // "base" when empty
	SLS     string

	GrainsOrder *KeyOrder
	PillarOrder *KeyOrder
}

// Renderer renders files below one root directory (the state root or the
// pillar root). It caches parsed templates, so a map.jinja imported by many
// files is parsed once per Renderer; create one Renderer per run.
// A Renderer is safe for concurrent use.
type Renderer struct {
	Root string

	mu    sync.Mutex
	cache map[string]*cacheEntry // by slash-separated path below Root
}

// New returns a Renderer for files below root.
func New(root string) *Renderer { return &Renderer{Root: root} }

// stage is one step of a renderer pipeline.
type stage string

const (
	stageJinja  stage = "jinja"
	stagePongo2 stage = "pongo2"
	stageYAML   stage = "yaml"
	stageJSON   stage = "json"
)

// pipelines lists the supported shebangs. A template stage renders text to
// text, a data stage parses text; every pipeline ends in a data stage.
var pipelines = map[string][]stage{
	"jinja|yaml":  {stageJinja, stageYAML},
	"jinja|json":  {stageJinja, stageJSON},
	"pongo2|yaml": {stagePongo2, stageYAML},
	"yaml":        {stageYAML},
	"json":        {stageJSON},
}

// RenderFile renders root/rel with ctx and parses the result. It returns
// the YAML document node (nil for an empty file, which Salt treats as {}).
// Errors are *Error values naming the file and line.
func (r *Renderer) RenderFile(rel string, ctx *Context) (*yaml.Node, error) {
	rel = cleanRel(rel)
	src, err := r.source(rel)
	if err != nil {
		return nil, &Error{File: rel, SLS: slsLabel(ctx), Msg: err.Error()}
	}
	return r.render(rel, src, ctx)
}

// RenderBytes is RenderFile for a template held in memory; name is its path
// below Root and is used in errors and to resolve relative imports.
func (r *Renderer) RenderBytes(name string, src []byte, ctx *Context) (*yaml.Node, error) {
	return r.render(cleanRel(name), src, ctx)
}

// RenderString renders src through the template stage only (jinja unless
// a shebang says otherwise) and returns the text, for file templates.
func (r *Renderer) RenderString(name string, src []byte, ctx *Context) (out []byte, err error) {
	name = cleanRel(name)
	defer func() { err = finishError(err, name, ctx) }()
	stages, body, err := parseShebang(name, src, []stage{stageJinja})
	if err != nil {
		return nil, err
	}
	out = body
	for _, st := range stages {
		switch st {
		case stageJinja:
			out, err = r.renderJinja(name, out, ctx)
		case stagePongo2:
			out, err = renderPongo2(name, out, ctx)
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// RenderString is Renderer.RenderString with a Renderer rooted at the
// current directory, for templates that import nothing.
func RenderString(name string, src []byte, ctx *Context) ([]byte, error) {
	return New(".").RenderString(name, src, ctx)
}

func (r *Renderer) render(rel string, src []byte, ctx *Context) (n *yaml.Node, err error) {
	defer func() { err = finishError(err, rel, ctx) }()
	stages, body, err := parseShebang(rel, src, pipelines["jinja|yaml"])
	if err != nil {
		return nil, err
	}
	text := body
	for _, st := range stages {
		switch st {
		case stageJinja:
			text, err = r.renderJinja(rel, text, ctx)
		case stagePongo2:
			text, err = renderPongo2(rel, text, ctx)
		case stageYAML:
			return parseYAML(rel, slsLabel(ctx), text)
		case stageJSON:
			return parseJSON(rel, slsLabel(ctx), text)
		}
		if err != nil {
			return nil, err
		}
	}
	return nil, &Error{File: rel, SLS: slsLabel(ctx), Msg: "renderer pipeline does not end in a data renderer"}
}

// parseShebang splits a first-line "#!a|b" from src. The shebang line is
// replaced by an empty line so line numbers in errors stay those of the
// file.
func parseShebang(file string, src []byte, def []stage) ([]stage, []byte, error) {
	if !bytes.HasPrefix(src, []byte("#!")) {
		return def, src, nil
	}
	line, rest, _ := bytes.Cut(src, []byte("\n"))
	spec := strings.TrimSpace(string(line[2:]))
	spec = strings.ReplaceAll(spec, " ", "")
	stages, ok := pipelines[spec]
	if !ok {
		return nil, nil, &Error{File: file, Line: 1, Msg: fmt.Sprintf(
			"unknown renderer pipeline %q (supported: jinja|yaml, jinja|json, pongo2|yaml, yaml, json)", spec)}
	}
	body := append([]byte("\n"), rest...)
	if len(rest) == 0 && !bytes.Contains(src, []byte("\n")) {
		body = nil
	}
	return stages, body, nil
}

// finishError fills in what every *Error carries: the SLS label, the file
// being rendered and the secrets to keep out of its text.
func finishError(err error, top string, ctx *Context) error {
	if err == nil {
		return nil
	}
	re := findErr[*Error](err)
	if re == nil {
		return &Error{SLS: slsLabel(ctx), Top: top, File: top, Msg: err.Error(), secrets: pillarSecrets(ctx)}
	}
	c := *re // parse errors are cached and shared between renders
	c.SLS, c.Top = slsLabel(ctx), top
	if c.File == "" {
		c.File = top
	}
	c.secrets = pillarSecrets(ctx)
	return &c
}

// cacheEntry holds what the Renderer remembers about one file.
type cacheEntry struct {
	once sync.Once
	src  []byte
	err  error
	tpl  *jinjaTemplate // parsed lazily by the jinja stage
	tErr error
	tMu  sync.Mutex
}

func (r *Renderer) entry(rel string) *cacheEntry {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cache == nil {
		r.cache = map[string]*cacheEntry{}
	}
	e, ok := r.cache[rel]
	if !ok {
		e = &cacheEntry{}
		r.cache[rel] = e
	}
	return e
}

// source reads root/rel once per Renderer.
func (r *Renderer) source(rel string) ([]byte, error) {
	e := r.entry(rel)
	e.once.Do(func() {
		if strings.HasPrefix(rel, "../") || rel == ".." || path.IsAbs(rel) {
			e.err = fmt.Errorf("template %q is outside the file root", rel)
			return
		}
		e.src, e.err = os.ReadFile(filepath.Join(r.Root, filepath.FromSlash(rel)))
		if os.IsNotExist(e.err) {
			e.err = fmt.Errorf("template %q not found", rel)
		} else if e.err != nil {
			e.err = fmt.Errorf("failed to read template %q: %w", rel, e.err)
		}
	})
	return e.src, e.err
}

func cleanRel(rel string) string {
	return strings.TrimPrefix(path.Clean(filepath.ToSlash(rel)), "/")
}

// slsLabel is how Salt names the thing being rendered in errors:
// "base:incus.cluster" for a state file.
func slsLabel(ctx *Context) string {
	if ctx == nil || ctx.SLS == "" {
		return ""
	}
	env := ctx.Saltenv
	if env == "" {
		env = "base"
	}
	return env + ":" + ctx.SLS
}
