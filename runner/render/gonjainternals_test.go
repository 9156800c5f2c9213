package render

import (
	"reflect"
	"testing"

	"github.com/nikolalohinski/gonja/v2/exec"
)

// TestGonjaInternals checks every assumption gonjainternals.go makes about
// gonja's unexported internals, so a gonja upgrade that breaks one fails
// here, loudly, instead of degrading renders.
func TestGonjaInternals(t *testing.T) {
	t.Run("exec.Context keeps its variables in a map field", func(t *testing.T) {
		f, ok := reflect.TypeFor[exec.Context]().FieldByName(contextDataField)
		if !ok || f.Type != reflect.TypeFor[map[string]any]() {
			t.Fatalf("exec.Context.%s is gone or not map[string]any: ownVars (import, from) cannot list a template's exports", contextDataField)
		}
		ctx := exec.NewContext(map[string]any{"a": 1})
		child := ctx.Inherit()
		child.Set("b", 2)
		if got := ownVars(child); len(got) != 1 || got["b"] != 2 {
			t.Fatalf("ownVars = %v, want only the child's own variable b", got)
		}
	})
	// The tree walk reaches literals held in the unexported fields of each
	// built-in control structure; one it no longer reaches prints a gonja
	// value (sorted dict, no tuple) instead of Python's. Want is what
	// Python's Jinja2 renders.
	t.Run("tree walk reaches every control structure", func(t *testing.T) {
		const src = `{{ {'b': 1, 'a': 2} }}
{% if {'b': 1, 'a': 2}|list == ['b', 'a'] %}if{% elif [1] %}elif{% endif %}
{% for k in {'y': 1, 'x': 2} %}{{ k }}{% else %}none{% endfor %}
{% for k in [] %}{% else %}{{ ('t', 1) }}{% endfor %}
{% set s = {'d': 1, 'c': 2} %}{{ s }}
{% set blk %}{{ [1, 'a', None] }}{% endset %}{{ blk }}
{% macro m(x={'q': 1, 'p': 2}) %}{{ x }}{% endmacro %}{{ m() }}
{% macro c2(a) %}{{ a }}{{ caller() }}{% endmacro %}{% call c2({'n': 1, 'm': 2}) %}{{ ['in', 'call'] }}{% endcall %}
{% filter upper %}{{ {'f': 'x', 'e': 'y'} }}{% endfilter %}
{% with w = {'w2': 1, 'w1': 2} %}{{ w }}{% endwith %}
{{ {'k': [1, {'z': 1, 'a': (2, 3)}]} }}
`
		const want = "{'b': 1, 'a': 2}\nif\nyx\n('t', 1)\n{'d': 1, 'c': 2}\n[1, 'a', None]\n{'q': 1, 'p': 2}\n{'n': 1, 'm': 2}['in', 'call']\n{'F': 'X', 'E': 'Y'}\n{'w2': 1, 'w1': 2}\n{'k': [1, {'z': 1, 'a': (2, 3)}]}"
		out, err := New(t.TempDir()).RenderString("t.sls", []byte(src), nil)
		if err != nil {
			t.Fatal(err)
		}
		if string(out) != want+"\n" {
			t.Fatalf("rendered\n%s\nwant (Python Jinja2)\n%s", out, want)
		}
	})
}
