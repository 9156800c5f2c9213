package render

import (
	"strconv"
	"testing"
)

func TestMaskSecretLines(t *testing.T) {
	tests := []struct{ in, want string }{
		{"cluster_password: hunter2", "cluster_password: ******"},
		{"  token: abc    <======================", "  token: ******    <======================"},
		{"  - api_key: xyz", "  - api_key: ******"},
		{`  "my_secret": "a b"`, `  "my_secret": ******`},
		{"password: {{ pillar['pw'] }}", "password: {{ pillar['pw'] }}"}, // the template, not a value
		// A quoted lookup is the template too: the failing expression shows.
		{`    - token: "{{ pillar['incus']['nope'] }}"    <===`, `    - token: "{{ pillar['incus']['nope'] }}"    <===`},
		{`  password: 'x-{{ salt['pillar.get']('p') }}-{{ y }}'`, `  password: '******{{ salt['pillar.get']('p') }}******{{ y }}'`},
		{`  password: "hunter2 {{ x }}"`, `  password: "****** {{ x }}"`},
		{"address: 10.0.0.1", "address: 10.0.0.1"},
		// One key rule with every other view (secret.Key).
		{"db_pass: pw1234", "db_pass: ******"},
		{"  clusterPassword: pw1234", "  clusterPassword: ******"},
		{"  user.apikey: k1234", "  user.apikey: ******"},
		{"server_cert: /etc/statectl/cluster.crt", "server_cert: /etc/statectl/cluster.crt"}, // a public certificate
		{"cluster.join_token_expiry: 3H", "cluster.join_token_expiry: 3H"},
		{"tokens:", "tokens:"}, // a mapping follows: its keys are checked line by line
		{"# password: in a comment", "# password: in a comment"},
	}
	for _, tt := range tests {
		if got := maskSecretLines(tt.in); got != tt.want {
			t.Errorf("maskSecretLines(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestYAMLErrorLine(t *testing.T) {
	tests := []struct {
		name, text string
		line       int
		tab        bool
	}{
		// yaml.v3 says line 1 (the enclosing block) for these.
		{"bad indent", "x:\n  test.nop:\n  - name: a\n   - foo: b\n", 4, false},
		{"dedented key", "x:\n  a: 1\n b: 2\n", 3, false},
		// yaml.v3 says line 1; the list misses its ']' after line 3.
		{"unclosed bracket", "a: 1\nb: [1,\n 2\n", 3, false},
		{"tab", "first:\n\ttest.nop: []\n", 2, true},
		// An earlier multi-line scalar does not count as the error.
		{"after a multi-line scalar", "a: [1,\n  2]\nb: 'x\n  y'\nc:\n  d: 1\n e: 2\n", 7, false},
		{"unclosed quote", "a: 1\nb: 'abc\nc: 2\n", 2, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseYAML("f.sls", "base:f", []byte(tt.text))
			e, ok := err.(*Error)
			if !ok {
				t.Fatalf("error %v (%T), want *Error", err, err)
			}
			if e.Line != tt.line {
				t.Errorf("line %d, want %d (%s)", e.Line, tt.line, e.Msg)
			}
			if got := tabIndented([]byte(tt.text), e.Line); got != tt.tab {
				t.Errorf("tabIndented = %v, want %v", got, tt.tab)
			}
		})
	}
}

// BenchmarkYAMLErrorLine measures the error path's re-parsing (a binary
// search over prefixes) on a 2000-line file with the error at the end.
func BenchmarkYAMLErrorLine(b *testing.B) {
	var text []byte
	for i := range 1999 {
		text = append(text, []byte("key"+strconv.Itoa(i)+": value\n")...)
	}
	text = append(text, []byte(" bad: [\n")...)
	for b.Loop() {
		if _, err := parseYAML("f.sls", "base:f", text); err == nil {
			b.Fatal("no error")
		}
	}
}
