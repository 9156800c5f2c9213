package slstree

import (
	"github.com/statectl/statectl/runner/render"
	"gopkg.in/yaml.v3"
)

// FileRenderer renders one file below the root into a YAML node.
// *render.Renderer implements it.
type FileRenderer interface {
	RenderFile(rel string, ctx *render.Context) (*yaml.Node, error)
}

// bytesRenderer is implemented by *render.Renderer: it renders content the
// tree has already read, so the renderer never opens the SLS file itself.
type bytesRenderer interface {
	RenderBytes(name string, src []byte, ctx *render.Context) (*yaml.Node, error)
}

// Render reads rel within the tree and renders it with r. A file that
// cannot be read (missing, or leading outside the tree) is a *render.Error
// naming rel, never quoting the target of a symlink. A renderer that can
// only render by name is given rel after the tree has checked it.
func (t *Tree) Render(r FileRenderer, rel string, ctx *render.Context) (*yaml.Node, error) {
	src, err := t.ReadFile(rel)
	if err != nil {
		return nil, &render.Error{File: rel, Top: rel, SLS: render.SLSLabel(ctx), Msg: "failed to read template: " + err.Error()}
	}
	if br, ok := r.(bytesRenderer); ok {
		return br.RenderBytes(rel, src, ctx)
	}
	return r.RenderFile(rel, ctx)
}
