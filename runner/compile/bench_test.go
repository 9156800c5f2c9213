package compile

import (
	"fmt"
	"strings"
	"testing"

	"github.com/statectl/statectl/runner/render"
	"gopkg.in/yaml.v3"
)

// BenchmarkCompileChain1000 renders and compiles 1,000 states in one
// file, each requiring the previous one (Salt took 11 s for this).
func BenchmarkCompileChain1000(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("s0:\n  test.nop: []\n")
	for i := 1; i < 1000; i++ {
		fmt.Fprintf(&sb, "s%d:\n  test.nop:\n    - require:\n      - test: s%d\n", i, i-1)
	}
	root := writeTree(b, map[string]string{"chain.sls": sb.String()})
	benchCompile(b, Options{Root: root, Registry: testRegistry()}, "chain")
}

// BenchmarkCompile50Files renders and compiles 1,000 independent states
// across 50 SLS files that all import one map.jinja.
func BenchmarkCompile50Files(b *testing.B) {
	files := map[string]string{
		"incus/map.jinja": `{% set incus = {'address': '10.0.0.' ~ grains['id'][-1:], 'port': 8443,
    'tags': ['a', 'b'], 'config': {'cluster.max_voters': '5'}} %}
{% do incus.update(pillar.get('incus', {})) %}
`,
	}
	var names []string
	for f := 0; f < 50; f++ {
		var sb strings.Builder
		sb.WriteString(`{% from "incus/map.jinja" import incus with context %}` + "\n")
		for i := 0; i < 20; i++ {
			fmt.Fprintf(&sb, "f%d-s%d:\n  demo.member:\n    - address: {{ incus.address }}\n    - port: {{ incus.port }}\n    - tags: {{ incus.tags|tojson }}\n    - config: {{ incus.config|tojson }}\n", f, i)
		}
		name := fmt.Sprintf("incus.f%02d", f)
		files[fmt.Sprintf("incus/f%02d.sls", f)] = sb.String()
		names = append(names, name)
	}
	root := writeTree(b, files)
	opts := Options{Root: root, Registry: testRegistry()}
	opts.Target = subjectFor("node2")
	benchCompile(b, opts, names...)
}

// benchCompile measures render+compile, and compile alone (renders
// replayed from a cache; compile never modifies the nodes it is given).
func benchCompile(b *testing.B, opts Options, names ...string) {
	run := func(b *testing.B, opts Options) {
		b.ReportAllocs()
		for b.Loop() {
			c, err := SLS(opts, names...)
			if err != nil {
				b.Fatal(err)
			}
			if len(c.States) != 1000 {
				b.Fatalf("%d states, want 1000", len(c.States))
			}
		}
	}
	b.Run("render+compile", func(b *testing.B) { run(b, opts) })
	b.Run("compile", func(b *testing.B) {
		cached := opts
		cached.Renderer = &replayRenderer{inner: render.New(opts.Root), docs: map[string]*yaml.Node{}}
		run(b, cached)
	})
}

type replayRenderer struct {
	inner FileRenderer
	docs  map[string]*yaml.Node
}

func (r *replayRenderer) RenderFile(rel string, ctx *render.Context) (*yaml.Node, error) {
	if d, ok := r.docs[rel]; ok {
		return d, nil
	}
	d, err := r.inner.RenderFile(rel, ctx)
	if err == nil {
		r.docs[rel] = d
	}
	return d, err
}
