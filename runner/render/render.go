// Package render turns a state or pillar file into YAML data through the
// renderer pipeline its shebang names (default jinja|yaml), as Salt does.
package render

import (
	"gopkg.in/yaml.v3"
)

// Context is what templates see. Grains and Pillar are the merged data for
// the target; SLS is the dotted SLS name of the file being rendered ("" for
// non-SLS files); tpldir and slspath are derived from it.
type Context struct {
	Grains  map[string]any
	Pillar  map[string]any
	Opts    map[string]any
	Saltenv string // "base" when empty
	SLS     string
}

// Renderer renders files below one root directory (the state root or the
// pillar root). It caches parsed templates, so a map.jinja imported by many
// files is parsed once per Renderer; create one Renderer per run.
type Renderer struct {
	Root string
}

// New returns a Renderer for files below root.
func New(root string) *Renderer { return &Renderer{Root: root} }

// RenderFile renders root/rel with ctx and parses the result. It returns
// the YAML document node (nil for an empty file, which Salt treats as {}).
// Errors are *Error values naming the file and line.
func (r *Renderer) RenderFile(rel string, ctx *Context) (*yaml.Node, error) {
	panic("render: not implemented yet")
}
