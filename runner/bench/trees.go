package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Tree is a generated state tree and the pillar tree that goes with it.
type Tree struct {
	States string // state root (has top.sls)
	Pillar string // pillar root (has top.sls)
	// SLS is what to apply: one SLS name, or none for a highstate.
	SLS []string
	// N is the number of states the tree compiles to.
	N int
}

// Args returns the statectl arguments that apply the tree to the target
// "local" in test mode, offline (no incusd, no roster).
func (t *Tree) Args(extra ...string) []string {
	args := append([]string{"apply", "local"}, t.SLS...)
	args = append(args, "--test", "--offline",
		"--states", t.States, "--pillar", t.Pillar,
		"--roster", filepath.Join(filepath.Dir(t.States), "roster.yaml"),
		"--config", filepath.Join(filepath.Dir(t.States), "statectl.yaml"))
	return append(args, extra...)
}

// WriteChain writes DIR/states/chain.sls: n test.succeed_with_changes
// states, each requiring the previous one (the shape of
// saltstack/salt#59123, where Salt took 11.3 s to compile 1,000).
func WriteChain(dir string, n int) (*Tree, error) {
	var sb strings.Builder
	sb.WriteString("s0000:\n  test.succeed_with_changes: []\n")
	for i := 1; i < n; i++ {
		fmt.Fprintf(&sb, "s%04d:\n  test.succeed_with_changes:\n    - require:\n      - test: s%04d\n", i, i-1)
	}
	t := &Tree{States: filepath.Join(dir, "states"), Pillar: filepath.Join(dir, "pillar"), SLS: []string{"chain"}, N: n}
	return t, writeFiles(dir, map[string]string{
		"states/chain.sls": sb.String(),
		"pillar/top.sls":   "base: {}\n",
		"statectl.yaml":    "{}\n",
	})
}

// MapFile is the shared map of WriteSharedMap, below the state root.
const MapFile = "bench/map.jinja"

// sharedMap is a map.jinja in the shape of states/incus/map.jinja: pillar
// merged over defaults, with a value derived from grains.
const sharedMap = `{#- Defaults, overridden key by key by pillar bench:settings. -#}
{%- set defaults = {'port': 8443, 'tags': ['a', 'b'], 'config': {'cluster.max_voters': '3'}} %}
{%- set bench = salt['pillar.get']('bench:settings', default=defaults, merge=True) %}
{%- do bench.update({'address': grains['id'] ~ ':' ~ bench.port}) %}
`

// WriteSharedMap writes files SLS files bench/fNN.sls of perFile
// independent test.succeed_without_changes states each, all importing
// MapFile, and a top.sls assigning them all to every target (so the run
// is a highstate).
func WriteSharedMap(dir string, files, perFile int) (*Tree, error) {
	fs := map[string]string{
		"states/" + MapFile: sharedMap,
		"pillar/top.sls":    "base:\n  '*':\n    - bench\n",
		"pillar/bench.sls":  "bench:\n  settings:\n    config:\n      cluster.offline_threshold: '20'\n",
		"statectl.yaml":     "{}\n",
	}
	var top strings.Builder
	top.WriteString("base:\n  '*':\n")
	for f := 0; f < files; f++ {
		var sb strings.Builder
		sb.WriteString(`{%- from "` + MapFile + `" import bench with context %}` + "\n")
		fmt.Fprintf(&sb, "{%%- for n in range(%d) %%}\n", perFile)
		fmt.Fprintf(&sb, "f%02d-s{{ n }}:\n  test.succeed_without_changes:\n", f)
		sb.WriteString("    - name: {{ bench.address }}/{{ n }}\n")
		sb.WriteString("    - comment: {{ (bench.tags ~ ' ' ~ bench.config['cluster.offline_threshold'])|tojson }}\n")
		sb.WriteString("{%- endfor %}\n")
		fs[fmt.Sprintf("states/bench/f%02d.sls", f)] = sb.String()
		fmt.Fprintf(&top, "    - bench.f%02d\n", f)
	}
	fs["states/top.sls"] = top.String()
	t := &Tree{States: filepath.Join(dir, "states"), Pillar: filepath.Join(dir, "pillar"), N: files * perFile}
	return t, writeFiles(dir, fs)
}

func writeFiles(dir string, files map[string]string) error {
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			return err
		}
	}
	return nil
}
