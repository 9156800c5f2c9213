package render

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/statectl/statectl/runner/golden"
	"gopkg.in/yaml.v3"
)

func testContext(sls string) *Context {
	return &Context{
		SLS:    sls,
		Grains: map[string]any{"id": "node2", "ipv4": []any{"10.0.0.12", "127.0.0.1"}},
		Pillar: map[string]any{
			"cluster_password": "hunter2-very-secret",
			"incus": map[string]any{
				"cluster_members": map[string]any{
					"node2": map[string]any{"address": "10.0.0.12"},
					"node3": map[string]any{"address": "10.0.0.13"},
				},
			},
		},
	}
}

// writeTree creates files below a temporary root.
func writeTree(t testing.TB, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, body := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestErrorGolden(t *testing.T) {
	const dir = "../../testdata/render/errors"
	cases := []string{"incus/cluster.sls", "undefined_var.sls", "syntax.sls", "bad_yaml.sls",
		"duplicate.sls", "unknown_renderer.sls", "import_error.sls", "missing_import.sls", "bad_filter_arg.sls"}
	r := New(dir)
	for _, rel := range cases {
		t.Run(rel, func(t *testing.T) {
			_, err := r.RenderFile(rel, testContext(slsName(rel)))
			if err == nil {
				t.Fatal("expected an error")
			}
			var re *Error
			if !errors.As(err, &re) {
				t.Fatalf("error is %T, want *Error", err)
			}
			if re.File == "" {
				t.Error("error names no file")
			}
			got := err.Error() + "\n"
			if strings.Contains(got, "hunter2-very-secret") {
				t.Errorf("error shows a pillar secret:\n%s", got)
			}
			golden.Check(t, filepath.Join(dir, strings.TrimSuffix(rel, ".sls")+".golden"), []byte(got))
		})
	}
}

func TestErrorFields(t *testing.T) {
	r := New("../../testdata/render/errors")
	_, err := r.RenderFile("incus/cluster.sls", testContext("incus.cluster"))
	var re *Error
	if !errors.As(err, &re) {
		t.Fatalf("got %v", err)
	}
	if re.Line != 11 || re.File != "incus/cluster.sls" || re.SLS != "base:incus.cluster" {
		t.Errorf("got file %q line %d sls %q", re.File, re.Line, re.SLS)
	}
	if !strings.Contains(re.Msg, "'cluster_addr'") {
		t.Errorf("message does not name the attribute: %q", re.Msg)
	}
	_, err = r.RenderFile("import_error.sls", testContext("import_error"))
	if !errors.As(err, &re) || re.File != "incus/map.jinja" || re.Line != 4 {
		t.Errorf("error in an imported file: got %#v", err)
	}
}

func TestPipelines(t *testing.T) {
	root := writeTree(t, map[string]string{
		"default.sls":   "a: {{ grains.id }}\n",
		"yaml.sls":      "#!yaml\na: '{{ grains.id }}'\n",
		"json.sls":      "#!json\n{\"a\": 1e3, \"b\": [true, null]}\n",
		"jinjajson.sls": "#!jinja|json\n{\"a\": \"{{ grains.id }}\"}\n",
		"pongo2.sls":    "#!pongo2|yaml\na: {{ grains.id }}\nb: \"{{ '<&>' }}\"\n{% if grains.id == 'node2' %}c: yes{% endif %}\n",
		"empty.sls":     "",
		"comments.sls":  "{# nothing #}\n# only a comment\n",
		"spaced.sls":    "#! jinja | yaml\na: {{ 1 + 1 }}\n",
	})
	cases := []struct {
		file string
		want any
	}{
		{"default.sls", map[string]any{"a": "node2"}},
		{"yaml.sls", map[string]any{"a": "{{ grains.id }}"}},
		{"json.sls", map[string]any{"a": 1000.0, "b": []any{true, nil}}},
		{"jinjajson.sls", map[string]any{"a": "node2"}},
		{"pongo2.sls", map[string]any{"a": "node2", "b": "<&>", "c": true}},
		{"empty.sls", nil},
		{"comments.sls", nil},
		{"spaced.sls", map[string]any{"a": 2}},
	}
	r := New(root)
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			n, err := r.RenderFile(c.file, testContext(""))
			if err != nil {
				t.Fatal(err)
			}
			if c.want == nil {
				if n != nil {
					t.Fatalf("want nil node for an empty render, got %v", n)
				}
				return
			}
			got, err := ToValue(n)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %#v, want %#v", got, c.want)
			}
		})
	}
	if _, err := r.RenderFile("nope.sls", nil); err == nil || !strings.Contains(err.Error(), "nope.sls") {
		t.Errorf("missing file: %v", err)
	}
}

func TestRenderStringKeepsText(t *testing.T) {
	out, err := RenderString("motd", []byte("Hello {{ grains.id }}\n{% if true %}x{% endif %}\n\n"), testContext(""))
	if err != nil {
		t.Fatal(err)
	}
	if want := "Hello node2\nx\n\n"; string(out) != want {
		t.Errorf("got %q, want %q", out, want)
	}
}

func TestNodeKeepsOrderAndLines(t *testing.T) {
	root := writeTree(t, map[string]string{"s.sls": "zz:\n  test.nop\n{% for i in [3, 1, 2] %}\nid{{ i }}:\n  test.nop\n{% endfor %}\n"})
	n, err := New(root).RenderFile("s.sls", nil)
	if err != nil {
		t.Fatal(err)
	}
	m := n.Content[0]
	var keys []string
	var lines []int
	for i := 0; i < len(m.Content); i += 2 {
		keys = append(keys, m.Content[i].Value)
		lines = append(lines, m.Content[i].Line)
	}
	if fmt.Sprint(keys) != "[zz id3 id1 id2]" || fmt.Sprint(lines) != "[1 4 7 10]" {
		t.Errorf("keys %v lines %v", keys, lines)
	}
}

func TestToValue(t *testing.T) {
	cases := []struct {
		src  string
		want any
	}{
		{"a: yes", map[string]any{"a": true}},
		{"a: Off", map[string]any{"a": false}},
		{"a: y", map[string]any{"a": "y"}},
		{"a: 0755", map[string]any{"a": 493}},
		{"a: 0x1F", map[string]any{"a": 31}},
		{"a: 1_000", map[string]any{"a": 1000}},
		{"a: 1:30", map[string]any{"a": 90}},
		{"a: 1e3", map[string]any{"a": "1e3"}},
		{"a: 1.0e+3", map[string]any{"a": 1000.0}},
		{"a: -.inf", map[string]any{"a": math.Inf(-1)}},
		{"a: 2024-01-02", map[string]any{"a": "2024-01-02"}},
		{"a: ~", map[string]any{"a": nil}},
		{"a: 'yes'", map[string]any{"a": "yes"}},
		{"a: !!str 12", map[string]any{"a": "12"}},
		{"a: !!int '12'", map[string]any{"a": 12}},
		{"1: x\ntrue: y", map[string]any{"1": "x", "True": "y"}},
		{"base: &b {x: 1, y: 2}\nd:\n  <<: *b\n  y: 3", map[string]any{"base": map[string]any{"x": 1, "y": 2}, "d": map[string]any{"x": 1, "y": 3}}},
		{"- [1, 2.5]\n- {}", []any{[]any{1, 2.5}, map[string]any{}}},
	}
	for _, c := range cases {
		t.Run(c.src, func(t *testing.T) {
			var n yaml.Node
			if err := yaml.Unmarshal([]byte(c.src), &n); err != nil {
				t.Fatal(err)
			}
			got, err := ToValue(&n)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %#v, want %#v", got, c.want)
			}
		})
	}
}

func TestToValueRejectsCollectionKeys(t *testing.T) {
	var n yaml.Node
	if err := yaml.Unmarshal([]byte("a: {{ x }}"), &n); err != nil {
		t.Fatal(err)
	}
	if _, err := ToValue(&n); err == nil || !strings.Contains(err.Error(), "unhashable") {
		t.Errorf("got %v, want an unhashable key error", err)
	}
}

func TestDuplicateKeys(t *testing.T) {
	cases := []struct {
		src, want string
	}{
		{"a: 1\nb: 2\na: 3\n", "found conflicting ID 'a' on line 3 (first defined on line 1)"},
		{"x:\n  k: 1\n  k: 2\n", "found conflicting ID 'k' on line 3 (first defined on line 2)"},
		{"1: a\n'1': b\n", ""}, // an int and a string key differ, as in Python
		{"on: a\nyes: b\n", "found conflicting ID 'yes' on line 2 (first defined on line 1)"},
	}
	for _, c := range cases {
		_, err := parseYAML("f.sls", "", []byte(c.src))
		if c.want == "" {
			if err != nil {
				t.Errorf("%q: unexpected error %v", c.src, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want %q", c.src, err, c.want)
		}
	}
}

func TestSharedMapParsedOnce(t *testing.T) {
	files := map[string]string{"map.jinja": "{% set m = {'port': 1} %}\n"}
	for i := 0; i < 5; i++ {
		files[fmt.Sprintf("s%d.sls", i)] = "{% from 'map.jinja' import m %}\na{{ m.port }}: x\n"
	}
	r := New(writeTree(t, files))
	for i := 0; i < 5; i++ {
		if _, err := r.RenderFile(fmt.Sprintf("s%d.sls", i), nil); err != nil {
			t.Fatal(err)
		}
	}
	parsed := 0
	for key, e := range r.cache {
		if strings.Contains(key, ":map.jinja:") && e.tpl != nil {
			parsed++
		}
	}
	if parsed != 1 {
		t.Errorf("map.jinja parsed %d times, want 1", parsed)
	}
}

func TestPythonRepr(t *testing.T) {
	cases := []struct {
		in   any
		want string
	}{
		{nil, "None"},
		{1.0, "1.0"},
		{1e16, "1e+16"},
		{1e-5, "1e-05"},
		{0.0001, "0.0001"},
		{123456789.125, "123456789.125"},
		{"it's", `"it's"`},
		{`a'b"c`, `'a\'b"c'`},
		{"é\x01", `'é\x01'`},
		{map[string]any{"b": []any{1, "x"}, "a": true}, `{'a': True, 'b': [1, 'x']}`},
		{pyTuple{1}, "(1,)"},
	}
	for _, c := range cases {
		if got := pyRepr(c.in); got != c.want {
			t.Errorf("pyRepr(%#v) = %s, want %s", c.in, got, c.want)
		}
	}
}

func FuzzRender(f *testing.F) {
	for _, dir := range []string{corpusDir, "../../testdata/render/errors"} {
		_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				if b, err := os.ReadFile(p); err == nil {
					f.Add(b)
				}
			}
			return nil
		})
	}
	c := testContext("fuzz")
	r := New(corpusDir)
	f.Fuzz(func(t *testing.T, src []byte) {
		n, err := r.RenderBytes("fuzz.sls", src, c)
		if err != nil {
			var re *Error
			if !errors.As(err, &re) || re.File == "" {
				t.Fatalf("error without file: %v", err)
			}
			return
		}
		if _, err := ToValue(n); err != nil {
			return
		}
	})
}

func BenchmarkRender50FilesSharedMap(b *testing.B) { benchRender50(b, testContext("")) }

// BenchmarkRender50FilesSharedMapOrdered is the same with the pillar and
// grains key orders set, as the CLI passes them.
func BenchmarkRender50FilesSharedMapOrdered(b *testing.B) {
	ctx := testContext("")
	ctx.PillarOrder = &KeyOrder{Keys: []string{"incus", "cluster_password"}, Fields: map[string]*KeyOrder{
		"incus": {Keys: []string{"cluster_members"}, Fields: map[string]*KeyOrder{
			"cluster_members": {Keys: []string{"node3", "node2"}}}}}}
	ctx.GrainsOrder = &KeyOrder{Keys: []string{"ipv4", "id"}}
	benchRender50(b, ctx)
}

func benchRender50(b *testing.B, ctx *Context) {
	files := map[string]string{"incus/map.jinja": `{% set defaults = {'port': 8443, 'members': {}} %}
{% set incus = salt['pillar.get']('incus', default=defaults, merge=True) %}
{% macro addr(ip) -%}{{ ip }}:{{ incus.port }}{%- endmacro %}
`}
	for i := 0; i < 50; i++ {
		var sb strings.Builder
		sb.WriteString("{% from \"incus/map.jinja\" import incus, addr with context %}\n")
		sb.WriteString("{% for n in range(20) %}\n")
		fmt.Fprintf(&sb, "state-%d-{{ n }}:\n  incus.cluster_member_present:\n", i)
		sb.WriteString("    - address: {{ addr(grains['ipv4'][0]) }}\n")
		sb.WriteString("    - cluster_password: {{ pillar['cluster_password'] | yaml_encode }}\n")
		sb.WriteString("{% endfor %}\n")
		files[fmt.Sprintf("incus/f%02d.sls", i)] = sb.String()
	}
	root := writeTree(b, files)
	b.ResetTimer()
	for b.Loop() {
		r := New(root) // one Renderer per run, as statectl uses it
		for i := 0; i < 50; i++ {
			n, err := r.RenderFile(fmt.Sprintf("incus/f%02d.sls", i), ctx)
			if err != nil {
				b.Fatal(err)
			}
			if len(n.Content[0].Content) != 40 {
				b.Fatalf("got %d keys", len(n.Content[0].Content)/2)
			}
		}
	}
}

// FuzzYAML feeds the YAML stage alone (as pillar and state files without
// Jinja): it must return a document or an *Error naming the file, and
// converting what it returns must stay within the limits.
func FuzzYAML(f *testing.F) {
	f.Add([]byte(aliasBombYAML))
	f.Add([]byte("a: &a {x: 1}\nb: *a\nc:\n  <<: *a\n  y: 2\n"))
	f.Add([]byte("incus:\n  cluster:\n    name: lab\n    members: [a, b]\n"))
	f.Add([]byte("k: yes\nn: ~\nf: 1.5e3\no: 0o17\nd: 2024-01-01\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		n, err := parseYAML("fuzz.sls", "", src)
		if err != nil {
			var re *Error
			if !errors.As(err, &re) || re.File == "" {
				t.Fatalf("error without file: %v", err)
			}
			return
		}
		_, _ = ToValue(n)
		_, _, _ = ToOrderedValue(n)
	})
}
