package target

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func subject() *Subject {
	return &Subject{
		ID: "node2.lab",
		Grains: map[string]any{
			"id":       "node2.lab",
			"os":       "Debian",
			"osfamily": "Debian",
			"num_cpus": 4,
			"virtual":  true,
			"ipv4":     []any{"127.0.0.1", "10.0.1.102"},
			"ipv6":     []any{"::1", "fe80::1"},
			"roles":    []string{"incus", "compute"},
			"incus": map[string]any{
				"cluster": map[string]any{"enabled": true, "member": "node2"},
				"storage": []any{map[string]any{"name": "local"}, map[string]any{"name": "ceph"}},
			},
			"disks": []any{"sda", "sdb"},
			"mem":   1.5,
		},
		Pillar: map[string]any{
			"incus": map[string]any{
				"role":            "join",
				"cluster_members": map[string]any{"node2": map[string]any{"address": "10.0.1.102"}},
			},
			"cluster_password": "s3cret",
		},
	}
}

func TestMatch(t *testing.T) {
	tests := []struct {
		expr, kind string
		want       bool
	}{
		// globs on the ID (case-sensitive, fnmatch semantics)
		{"*", "", true},
		{"node2.lab", "", true},
		{"node*", "", true},
		{"node?.lab", "", true},
		{"node[0-9].lab", "", true},
		{"node[!2].lab", "", false},
		{"node[!3].lab", "", true},
		{"Node*", "", false},
		{"node", "", false},
		{"node2.lab", "glob", true},
		{"web*", "glob", false},
		// grains: glob on the value, case-insensitive, nested, lists
		{"G@os:Debian", "", true},
		{"G@os:debian", "", true},
		{"G@os:Deb*", "", true},
		{"G@os:Ubuntu", "", false},
		{"G@num_cpus:4", "", true},
		{"G@virtual:true", "", true},
		{"G@ipv4:10.0.1.*", "", true},
		{"G@ipv4:192.168.*", "", false},
		{"G@ipv6:fe80::1", "", true},
		{"G@roles:compute", "", true},
		{"G@roles:storage", "", false},
		{"G@incus:cluster:member:node2", "", true},
		{"G@incus:cluster:enabled:True", "", true},
		{"G@incus:cluster:member", "", true}, // rest names a key of the dict
		{"G@incus:cluster:absent", "", false},
		{"G@incus:storage:name:ceph", "", true},
		{"G@incus:*:member:node2", "", true},
		{"G@disks:0:sda", "", true},
		{"G@disks:1:sda", "", false},
		{"G@missing:x", "", false},
		{"G@mem:1.5", "", true},
		{"G;@ipv6;fe80::1", "", true},
		{"os:Debian", "grain", true},
		{"os:Ubuntu", "grain", false},
		// grain regex: whole value, case-insensitive
		{"P@os:(Debian|Ubuntu)", "", true},
		{"P@os:Deb", "", false},
		{"P@ipv4:10\\.0\\.1\\.\\d+", "", true},
		{"os:deb.*", "grain_pcre", true},
		// pillar
		{"I@incus:role:join", "", true},
		{"I@incus:role:bootstrap", "", false},
		{"I@incus:cluster_members:node2:address:10.0.1.102", "", true},
		{"incus:role:j*", "pillar", true},
		{"J@incus:role:jo.n", "", true},
		{"incus:role:b.*", "pillar_pcre", false},
		// lists and regexes on the ID
		{"L@node1.lab,node2.lab", "", true},
		{"L@node1.lab,node3.lab", "", false},
		{"node1.lab, node2.lab", "list", true},
		{"E@node\\d\\.lab", "", true},
		{"E@node", "", false}, // the whole ID must match
		{"node[23]\\..*", "pcre", true},
		// ipcidr
		{"S@10.0.0.0/16", "", true},
		{"S@10.0.1.102", "", true},
		{"S@192.168.0.0/16", "", false},
		{"S@fe80::/10", "", true},
		{"10.0.1.0/24", "ipcidr", true},
		// operators and parentheses
		{"G@os:Debian and node*", "", true},
		{"G@os:Debian and web*", "", false},
		{"web* or node*", "", true},
		{"not web*", "", true},
		{"not node*", "", false},
		{"node* not G@os:Debian", "", false}, // implicit "and not"
		{"node* not G@os:Ubuntu", "", true},
		{"not not node*", "", true},
		{"web* or node* and G@os:Ubuntu", "", false}, // and binds tighter
		{"( web* or node* ) and G@os:Debian", "", true},
		{"(web* or node*) and G@os:Debian", "", true},
		{"(web* or db*) and G@os:Debian", "", false},
		{"not (web* or db*)", "", true},
		{"(E@(node|web)\\d\\.lab)", "", true},
		{"(E@(web|db)\\d\\.lab or L@node2.lab)", "", true},
		{"G@os:Debian and I@incus:role:join and not L@node1.lab", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.kind+":"+tt.expr, func(t *testing.T) {
			got, err := Match(tt.expr, tt.kind, subject())
			if err != nil {
				t.Fatalf("Match(%q, %q): %v", tt.expr, tt.kind, err)
			}
			if got != tt.want {
				t.Errorf("Match(%q, %q) = %v, want %v", tt.expr, tt.kind, got, tt.want)
			}
		})
	}
}

func TestMatchErrors(t *testing.T) {
	tests := []struct {
		expr, kind string
		want       string
	}{
		{"", "", `invalid target expression "": empty expression`},
		{"   ", "", `invalid target expression "   ": empty expression`},
		{"and node*", "", `column 1: unexpected "and", expected a matcher`},
		{"node* or", "", `column 9: unexpected end of expression`},
		{"node* web*", "", `column 7: expected "and" or "or" before "web*"`},
		{"( node*", "", `column 1: unclosed "("`},
		{"node* )", "", `column 7: unbalanced ")"`},
		{"(node* or) web", "", `column 10: unexpected ")", expected a matcher`},
		{"( node* web* )", "", `column 9: expected "and", "or" or ")" before "web*"`},
		{"G@os", "", `column 1: G@os: expected KEY:VALUE`},
		{"G@", "", `column 1: G@: empty pattern`},
		{"node* and E@(web", "", `column 11: E@(web: invalid regular expression`},
		{"E@(?=x)", "", "invalid regular expression"},
		{"P@os:(a", "", "invalid regular expression"},
		{"S@10.0.0.300/8", "", "not an IP address or CIDR network"},
		{"N@group", "", "nodegroups (N@) are not supported"},
		{"x", "nodegroup", `unknown match type "nodegroup"`},
		{"os", "grain", `invalid grain target "os": expected KEY:VALUE`},
		{"(x", "pcre", `invalid pcre target "(x": invalid regular expression`},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			_, err := Match(tt.expr, tt.kind, subject())
			if err == nil {
				t.Fatalf("Match(%q, %q): no error, want %q", tt.expr, tt.kind, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Match(%q, %q) error = %q, want it to contain %q", tt.expr, tt.kind, err, tt.want)
			}
		})
	}
}

func TestSyntaxErrorType(t *testing.T) {
	_, err := Compile("a b", "")
	var se *SyntaxError
	if !errors.As(err, &se) || se.Pos != 3 || se.Expr != "a b" {
		t.Fatalf("error = %#v, want *SyntaxError at column 3", err)
	}
}

func TestGlob(t *testing.T) {
	tests := []struct {
		pat, s string
		want   bool
	}{
		{"a/*", "a/b/c", true}, // fnmatch's * crosses "/"
		{"a\\b", "a\\b", true}, // backslash is literal
		{"[", "[", true},       // unclosed set is literal
		{"a[]]b", "a]b", true}, // "]" first in a set is literal
		{"a[!]]b", "axb", true},
		{"a[!]]b", "a]b", false},
		{"[z-a]x", "x", false}, // reversed range dropped: set matches nothing
		{"[z-ab]", "b", true},
		{"a.b", "axb", false}, // "." is literal
		{"a+b", "a+b", true},
		{"[a-c-]", "-", true},
		{"[!a-c]", "d", true},
		{"[^a]", "^", true}, // "^" is literal in a set, as in Python
	}
	for _, tt := range tests {
		re, err := globRegexp(tt.pat, false)
		if err != nil {
			t.Fatalf("globRegexp(%q): %v", tt.pat, err)
		}
		if got := re.MatchString(tt.s); got != tt.want {
			t.Errorf("glob %q on %q = %v, want %v (regexp %s)", tt.pat, tt.s, got, tt.want, re)
		}
	}
}

func TestMatcherIDOnly(t *testing.T) {
	for expr, want := range map[string]bool{
		"web*":                   true,
		"L@a,b or E@c.*":         true,
		"web* and G@os:Debian":   false,
		"not I@role:x":           false,
		"web* or S@10.0.0.0/8":   false,
		"(a* or b*) and not c*":  true,
		"P@os:.* or J@role:.*":   false,
		"E@(a|b) and not L@a,c ": true,
	} {
		m, err := Compile(expr, "")
		if err != nil {
			t.Fatal(err)
		}
		if m.IDOnly() != want {
			t.Errorf("IDOnly(%q) = %v, want %v", expr, m.IDOnly(), want)
		}
	}
}

func TestMatchTargets(t *testing.T) {
	names := []string{"node3", "node1", "local", "node2", "web1", "node1"}
	grains := map[string]map[string]any{
		"node1": {"role": "bootstrap", "os": "Debian"},
		"node2": {"role": "join", "os": "Debian"},
		"node3": {"role": "join", "os": "Ubuntu"},
	}
	tests := []struct {
		expr     string
		want     []string
		wantErr  string
		noLookup bool
	}{
		{expr: "node2", want: []string{"node2"}, noLookup: true},
		{expr: "node*", want: []string{"node1", "node2", "node3"}, noLookup: true},
		{expr: "*", want: []string{"local", "node1", "node2", "node3", "web1"}, noLookup: true},
		{expr: "L@web1,node1", want: []string{"node1", "web1"}, noLookup: true},
		{expr: "G@role:join", want: []string{"node2", "node3"}},
		{expr: "G@role:join and G@os:Debian", want: []string{"node2"}},
		{expr: "G@os:Debian or local", want: []string{"local", "node1", "node2"}},
		{expr: "db*", wantErr: `no roster target matches "db*"`, noLookup: true},
		{expr: "node* and", wantErr: "unexpected end of expression"},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			lookups := 0
			got, err := MatchTargets(tt.expr, names, func(name string) *Subject {
				lookups++
				if g, ok := grains[name]; ok {
					return &Subject{Grains: g} // ID filled in by MatchTargets
				}
				return nil
			})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("MatchTargets(%q) error = %v, want %q", tt.expr, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("MatchTargets(%q): %v", tt.expr, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("MatchTargets(%q) = %v, want %v", tt.expr, got, tt.want)
			}
			if tt.noLookup && lookups != 0 {
				t.Errorf("MatchTargets(%q) looked up %d subjects for an ID-only expression", tt.expr, lookups)
			}
		})
	}
	if _, err := MatchTargets("db*", names, nil); !errors.Is(err, ErrNoMatch) {
		t.Errorf("no match error %v does not wrap ErrNoMatch", err)
	}
}
