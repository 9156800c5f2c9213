package render

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestKeyOrderOrdered(t *testing.T) {
	m := map[string]any{"d": 1, "b": 2, "a": 3, "c": 4}
	tests := []struct {
		name  string
		order *KeyOrder
		want  string
	}{
		{"nil: sorted", nil, "a b c d"},
		{"listed keys first, others sorted", &KeyOrder{Keys: []string{"c", "a"}}, "c a b d"},
		{"keys not in the map are skipped", &KeyOrder{Keys: []string{"x", "d", "d"}}, "d a b c"},
	}
	for _, tt := range tests {
		if got := strings.Join(tt.order.Ordered(m), " "); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
}

// ToOrderedValue's order is the order templates give a document's dicts
// when they load it (merge keys, aliases, lists of dicts included).
func TestToOrderedValue(t *testing.T) {
	src := `
base: &base {z: 1, y: 2}
node:
  <<: *base
  c: 1
  a: {q: 1, p: 2}
list: [{n: 1, m: 2}, plain, [{k: 1, j: 2}]]
b: 0
`
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(src), &n); err != nil {
		t.Fatal(err)
	}
	v, o, err := ToOrderedValue(&n)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := ToValue(&n)
	if err != nil {
		t.Fatal(err)
	}
	c := &Context{Pillar: v.(map[string]any), PillarOrder: o}
	out, err := RenderString("t", []byte(
		"{{ pillar | list }} {{ pillar.node }} {{ pillar.list }}|{{ pillar | tojson }}"), c)
	if err != nil {
		t.Fatal(err)
	}
	want := "['base', 'node', 'list', 'b'] {'z': 1, 'y': 2, 'c': 1, 'a': {'q': 1, 'p': 2}} " +
		"[{'n': 1, 'm': 2}, 'plain', [{'k': 1, 'j': 2}]]|" +
		`{"base": {"z": 1, "y": 2}, "node": {"z": 1, "y": 2, "c": 1, "a": {"q": 1, "p": 2}}, "list": [{"n": 1, "m": 2}, "plain", [{"k": 1, "j": 2}]], "b": 0}`
	if string(out) != want {
		t.Errorf("rendered\n%s\nwant\n%s", out, want)
	}
	if got, want := pyRepr(toPy(v)), pyRepr(toPy(plain)); got != want {
		t.Errorf("ToOrderedValue data %s differs from ToValue's %s", got, want)
	}
	// Without the order the same data iterates sorted.
	c.PillarOrder = nil
	out, err = RenderString("t", []byte("{{ pillar | list }} {{ pillar.node | list }}"), c)
	if err != nil {
		t.Fatal(err)
	}
	if want := "['b', 'base', 'list', 'node'] ['a', 'c', 'y', 'z']"; string(out) != want {
		t.Errorf("unordered: %s, want %s", out, want)
	}
}
