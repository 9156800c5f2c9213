package pillar

import (
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/statectl/statectl/runner/render"
)

// orderString writes v's keys as the order o gives them: "a b{x y} c[{p q}]".
func orderString(v any, o *render.KeyOrder) string {
	switch x := v.(type) {
	case map[string]any:
		var parts []string
		for _, k := range o.Ordered(x) {
			parts = append(parts, k+orderString(x[k], o.Field(k)))
		}
		return "{" + strings.Join(parts, " ") + "}"
	case []any:
		var parts []string
		for i, e := range x {
			if s := orderString(e, o.Item(i)); s != "" {
				parts = append(parts, s)
			}
		}
		if len(parts) == 0 {
			return ""
		}
		return "[" + strings.Join(parts, " ") + "]"
	}
	return ""
}

func TestCompileOrdered(t *testing.T) {
	tests := []struct {
		name        string
		files       map[string]string
		override    map[string]any
		grainsOrder string // YAML mapping whose key order is the grains'
		want        string // orderString of the pillar
		seen        map[string]any
	}{
		{
			name: "one file keeps its order, nested and in lists",
			files: map[string]string{
				"top.sls": "base:\n  '*': [a]\n",
				"a.sls":   "zeta: 1\nalpha:\n  node3: {x: 1}\n  node1: {z: 1, b: 2}\nlist:\n  - {y: 1, c: 2}\n  - plain\nmid: 2\n",
			},
			want: "{zeta alpha{node3{x} node1{z b}} list[{y c}] mid}",
		},
		{
			name: "a later file adds keys at the end, existing keys keep their place",
			files: map[string]string{
				"top.sls": "base:\n  '*': [a, b]\n",
				"a.sls":   "zeta: 1\nmembers:\n  node3: {address: x}\n  node1: {address: y}\nalpha: 1\n",
				"b.sls":   "new: 1\nmembers:\n  node2: {weight: 1}\n  node1: {weight: 2, address: z}\nzeta: 2\n",
			},
			want: "{zeta members{node3{address} node1{address weight} node2{weight}} alpha new}",
		},
		{
			name: "a replaced value takes the later file's order",
			files: map[string]string{
				"top.sls": "base:\n  '*': [a, b]\n",
				"a.sls":   "k:\n  l: [{p: 1, a: 2}]\n  s: {y: 1, b: 2}\n  d: {y: 1}\n",
				"b.sls":   "k:\n  l: [{q: 1, c: 2}]\n  s: scalar\n  m: {n: 1, e: 2}\n",
			},
			want: "{k{l[{q c}] s d{y} m{n e}}}",
		},
		{
			name: "the override's keys come first (sorted), its merge keeps places",
			files: map[string]string{
				"top.sls": "base:\n  '*': [a]\n",
				"a.sls":   "x: 1\nm: {a: 1, k: 2, b: 3}\nc: 1\n",
			},
			override: map[string]any{"z": 1, "m": map[string]any{"k": 9, "j": 8}},
			want:     "{m{j k a b} z x c}",
		},
		{
			name: "includes come first in include order, then the file's own keys",
			files: map[string]string{
				"top.sls":    "base:\n  '*': [main]\n",
				"main.sls":   "include:\n  - second\n  - first\n  - nested: {key: 'wrap:inner'}\nown: 1\nshared: {z: 1, a: 2}\n",
				"first.sls":  "f: 1\nshared: {m: 1}\n",
				"second.sls": "s: 1\nshared: {b: 1, a: 1}\n",
				"nested.sls": "q: 1\np: 2\n",
			},
			want: "{s shared{b a m z} f wrap{inner{q p}} own}",
		},
		{
			name: "templates see the order of the pillar merged so far and of the grains",
			files: map[string]string{
				"top.sls": "base:\n  '*': [a, b]\n",
				"a.sls":   "zeta: 1\nalpha: {y: 1, x: 2}\n",
				"b.sls": "seen: \"{% for k in pillar %}{{ k }} {% endfor %}\"\n" +
					"nested: \"{% for k in pillar.alpha %}{{ k }} {% endfor %}\"\n" +
					"grains: \"{% for k in grains %}{{ k }} {% endfor %}\"\n",
			},
			grainsOrder: "os: x\nid: x\nipv4: x\n",
			want:        "{zeta alpha{y x} seen nested grains}",
			seen:        map[string]any{"seen": "zeta alpha ", "nested": "y x ", "grains": "os id ipv4 os_family "},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := writeTree(t, tt.files)
			var grainsOrder *render.KeyOrder
			if tt.grainsOrder != "" {
				var n yaml.Node
				if err := yaml.Unmarshal([]byte(tt.grainsOrder), &n); err != nil {
					t.Fatal(err)
				}
				grainsOrder = render.NodeOrder(&n)
			}
			g := nodeGrains("node1")
			got, order, err := CompileOrdered(root, "node1", g, tt.override, grainsOrder)
			if err != nil {
				t.Fatal(err)
			}
			if s := orderString(got, order); s != tt.want {
				t.Errorf("order:\n got %s\nwant %s", s, tt.want)
			}
			for k, v := range tt.seen {
				if got[k] != v {
					t.Errorf("pillar[%q] = %q, want %q", k, got[k], v)
				}
			}
			if grainsOrder != nil {
				return // Compile has no grains order; templates differ
			}
			plain, err := Compile(root, "node1", g, tt.override)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(plain, got) {
				t.Errorf("Compile and CompileOrdered differ:\n%v\n%v", plain, got)
			}
		})
	}
}

func TestMergeOrderedLeavesInputsAlone(t *testing.T) {
	var dn, sn yaml.Node
	if err := yaml.Unmarshal([]byte("b: {y: 1}\na: 1\n"), &dn); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal([]byte("c: 1\nb: {x: 1}\n"), &sn); err != nil {
		t.Fatal(err)
	}
	dv, do, _ := render.ToOrderedValue(&dn)
	sv, so, _ := render.ToOrderedValue(&sn)
	before := orderString(dv, do) + orderString(sv, so)
	dst := dv.(map[string]any)
	dstCopy := Merge(nil, dst)
	m, o := MergeOrdered(dst, do, sv.(map[string]any), so)
	if got, want := orderString(m, o), "{b{y x} a c}"; got != want {
		t.Errorf("merged order %s, want %s", got, want)
	}
	if after := orderString(dstCopy, do) + orderString(sv, so); after != before {
		t.Errorf("input orders changed: %s, was %s", after, before)
	}
}
