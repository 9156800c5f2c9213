package render

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/flosch/pongo2/v6"
)

// renderPongo2 is the pongo2|yaml pipeline's template stage (Django
// syntax). HTML autoescaping is switched off by wrapping the source in an
// autoescape block rather than through pongo2's process-wide switch; the
// wrapper adds no line, so line numbers stay the file's.
func (r *Renderer) renderPongo2(name string, src []byte, ctx *Context) (out []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, &Error{SLS: SLSLabel(ctx), Top: name, File: name, Msg: fmt.Sprintf("pongo2 error: template engine crashed: %v", p)}
		}
	}()
	set := pongo2.NewSet("statectl", &pongo2Loader{l: &rootLoader{r: r, dir: path.Dir(name), name: name}})
	wrapped := "{% autoescape off %}" + string(src) + "{% endautoescape %}"
	tpl, err := set.FromString(wrapped)
	if err != nil {
		return nil, pongo2Error(name, string(src), ctx, err)
	}
	var c Context
	if ctx != nil {
		c = *ctx
	}
	grains, pillar, opts := toPy(nonNil(c.Grains)).(pyDict), toPy(nonNil(c.Pillar)).(pyDict), toPy(nonNil(c.Opts)).(pyDict)
	getter := func(data pyDict) func(key string, def ...any) any {
		return func(key string, def ...any) any {
			if v, ok := traverse(data, key, ":"); ok {
				return toGo(v)
			}
			if len(def) > 0 {
				return def[0]
			}
			return ""
		}
	}
	saltenv := c.Saltenv
	if saltenv == "" {
		saltenv = "base"
	}
	data := pongo2.Context{
		"grains":  toGo(grains),
		"pillar":  toGo(pillar),
		"opts":    toGo(opts),
		"saltenv": saltenv,
		"sls":     c.SLS,
		"salt": map[string]any{
			"pillar.get": getter(pillar),
			"grains.get": getter(grains),
		},
	}
	for k, v := range slsPaths(name, c.SLS) {
		data[k] = v
	}
	s, err := tpl.Execute(data)
	if err != nil {
		return nil, pongo2Error(name, string(src), ctx, err)
	}
	return []byte(s), nil
}

func pongo2Error(name, src string, ctx *Context, err error) error {
	e := &Error{SLS: SLSLabel(ctx), Top: name, File: name, Msg: "pongo2 error: " + err.Error(), src: src}
	var pe *pongo2.Error
	if errors.As(err, &pe) {
		e.Line = pe.Line
		if pe.OrigError != nil {
			e.Msg = "pongo2 error: " + pe.OrigError.Error()
		}
	}
	return e
}

// pongo2Loader serves pongo2's include/import/extends from the Renderer's
// root, confined like the jinja loader (pongo2's own file loader reads any
// path on the machine).
type pongo2Loader struct{ l *rootLoader }

func (p *pongo2Loader) Abs(base, name string) string {
	if base != "" && (strings.HasPrefix(name, "./") || strings.HasPrefix(name, "../")) {
		return path.Join(path.Dir(base), name)
	}
	return name
}

func (p *pongo2Loader) Get(name string) (io.Reader, error) {
	rel, err := p.l.Resolve(name)
	if err != nil {
		return nil, err
	}
	src, err := p.l.r.source(rel)
	if err != nil {
		return nil, err
	}
	return bytes.NewReader(src), nil
}
