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
	"errors"
	"fmt"
	"io"
	"io/fs"
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

	rootOnce sync.Once
	root     *os.Root // Root opened once; every template read goes through it
	rootErr  error
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
		return nil, &Error{File: rel, SLS: SLSLabel(ctx), Msg: err.Error()}
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
			out, err = r.renderPongo2(name, out, ctx)
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
			text, err = r.renderPongo2(rel, text, ctx)
		case stageYAML:
			return parseYAML(rel, SLSLabel(ctx), text)
		case stageJSON:
			return parseJSON(rel, SLSLabel(ctx), text)
		}
		if err != nil {
			return nil, err
		}
	}
	return nil, &Error{File: rel, SLS: SLSLabel(ctx), Msg: "renderer pipeline does not end in a data renderer"}
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
		return &Error{SLS: SLSLabel(ctx), Top: top, File: top, Msg: err.Error(), secrets: pillarSecrets(ctx)}
	}
	c := *re // parse errors are cached and shared between renders
	c.SLS, c.Top = SLSLabel(ctx), top
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

// source reads root/rel once per Renderer. Reads go through os.Root, so
// symlinks are resolved and a file or link outside Root is refused before
// any of it is read: an untrusted tree cannot make a template (or an error
// quoting one) show a file from elsewhere.
func (r *Renderer) source(rel string) ([]byte, error) {
	e := r.entry(rel)
	e.once.Do(func() {
		if strings.HasPrefix(rel, "../") || rel == ".." || path.IsAbs(rel) {
			e.err = fmt.Errorf("template %q is outside the file root", rel)
			return
		}
		e.src, e.err = ReadConfined(r.openRoot, rel)
		if e.err != nil {
			e.err = fmt.Errorf("template %q %w", rel, e.err)
		}
	})
	return e.src, e.err
}

func (r *Renderer) openRoot() (*os.Root, error) {
	r.rootOnce.Do(func() { r.root, r.rootErr = os.OpenRoot(r.Root) })
	return r.root, r.rootErr
}

// ReadConfined reads rel (slash-separated) below the root open returns,
// resolving symlinks inside it only. Errors never carry file content and
// read as a predicate ("not found", "is outside the file root"); a path or
// link leading outside the root is reported as such.
func ReadConfined(open func() (*os.Root, error), rel string) ([]byte, error) {
	root, err := open()
	if err != nil {
		return nil, fmt.Errorf("failed to open the file root: %w", err)
	}
	f, err := root.Open(filepath.FromSlash(rel))
	if err != nil && isEscape(err) {
		// os.Root treats every absolute symlink as leaving the root; one
		// that resolves into the tree is fine. The resolved path has no
		// links left and is opened through the root again, so a link
		// swapped meanwhile is still refused.
		if in, ok := resolveInside(root.Name(), rel); ok {
			f, err = root.Open(in)
		}
	}
	if err != nil {
		return nil, confinedErr(err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("is not a regular file")
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("could not be read: %w", err)
	}
	return b, nil
}

// OpenRootFunc returns a ReadConfined opener for dir, opened on first use.
func OpenRootFunc(dir string) func() (*os.Root, error) {
	return sync.OnceValues(func() (*os.Root, error) { return os.OpenRoot(dir) })
}

// isEscape reports os.Root's "path escapes from parent" (not exported).
func isEscape(err error) bool { return strings.Contains(err.Error(), "escapes from parent") }

// resolveInside resolves every symlink of root/rel and returns the result
// relative to the resolved root, if it lies inside it.
func resolveInside(root, rel string) (string, bool) {
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return "", false
	}
	real, err := filepath.EvalSymlinks(filepath.Join(root, filepath.FromSlash(rel)))
	if err != nil {
		return "", false
	}
	in, err := filepath.Rel(realRoot, real)
	if err != nil || in == ".." || strings.HasPrefix(in, ".."+string(filepath.Separator)) || filepath.IsAbs(in) {
		return "", false
	}
	return in, true
}

func confinedErr(err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return errors.New("not found")
	case isEscape(err):
		return errors.New("is outside the file root (a symlink or path leads out of it)")
	}
	return fmt.Errorf("could not be read: %w", err)
}

func cleanRel(rel string) string {
	return strings.TrimPrefix(path.Clean(filepath.ToSlash(rel)), "/")
}

// SLSLabel is how Salt names the thing being rendered in errors:
// "base:incus.cluster" for a state file, "" outside an SLS.
func SLSLabel(ctx *Context) string {
	if ctx == nil || ctx.SLS == "" {
		return ""
	}
	env := ctx.Saltenv
	if env == "" {
		env = "base"
	}
	return env + ":" + ctx.SLS
}
