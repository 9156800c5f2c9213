package render

import (
	"strings"
	"testing"
)

// TestLimits: inputs that used to overflow the Go stack or take gigabytes
// end in an error naming the file and line. Before the limits each of
// these crashed the test binary or ran out of memory.
func TestLimits(t *testing.T) {
	root := writeTree(t, map[string]string{
		"self.sls":  "{% extends \"self.sls\" %}\n",
		"a.sls":     "{% extends \"b.sls\" %}\n",
		"b.sls":     "{% extends \"a.sls\" %}\n",
		"incl.sls":  "x\n{% include \"incl.sls\" %}\n",
		"cases.sls": "",
	})
	cases := []struct{ name, file, src, want string }{
		{"range", "cases.sls", "a: 1\n{% for i in range(100000000) %}{% endfor %}\n", "range too big: 100000000 items"},
		{"range step", "cases.sls", "{{ range(0, 1000000000, 2) | length }}\n", "range too big: 500000000 items"},
		{"recursive macro", "cases.sls", "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}\n{{ f(0) }}\n", "more than 200 deep"},
		{"self extends", "self.sls", "", "more than 32 deep"},
		{"extends cycle", "a.sls", "", "more than 32 deep"},
		{"include itself", "incl.sls", "", "more than 32 deep"},
		{"output", "cases.sls", "{% for i in range(100000) %}{% for j in range(1000) %}xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx{% endfor %}{% endfor %}\n", "rendered output is larger than 16 MiB"},
	}
	r := New(root)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var err error
			if c.src != "" {
				_, err = r.RenderBytes(c.file, []byte(c.src), testContext(""))
			} else {
				_, err = r.RenderFile(c.file, testContext(""))
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
			if !strings.Contains(err.Error(), "line ") {
				t.Errorf("error names no line: %v", err)
			}
		})
	}
	t.Run("range at the limit renders", func(t *testing.T) {
		out, err := r.RenderString("cases.sls", []byte("{% for i in range(100000) %}{% endfor %}ok"), nil)
		if err != nil || string(out) != "ok" {
			t.Fatalf("got %q, %v", out, err)
		}
	})
}

// aliasBombYAML is a billion-laughs document: 600 bytes, 10^9 values once
// its aliases are expanded. Before the limit, a pillar holding it took
// 4.4 GB.
const aliasBombYAML = `a: &a ["x","x","x","x","x","x","x","x","x","x"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h,*h]
`

func TestYAMLAliasBomb(t *testing.T) {
	r := New(t.TempDir())
	for _, shebang := range []string{"#!yaml\n", ""} {
		_, err := r.RenderBytes("bomb.sls", []byte(shebang+aliasBombYAML), nil)
		if err == nil || !strings.Contains(err.Error(), "alias bomb") || !strings.Contains(err.Error(), "line ") {
			t.Fatalf("err = %v, want the alias bomb refused with its line", err)
		}
	}
	// Aliases within reason still work.
	n, err := r.RenderBytes("ok.sls", []byte("a: &a {x: 1}\nb: *a\nc:\n  <<: *a\n  y: 2\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ToValue(n); err != nil {
		t.Fatal(err)
	}
}
