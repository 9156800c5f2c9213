package slstree

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/statectl/statectl/runner/render"
)

const secret = "root:$6$SECRET-MARKER-4711: [unclosed"

// confinedTree builds a tree with a regular file, a symlink to it inside
// the tree, a symlink to a file outside holding a marker secret, and a
// symlinked directory outside.
func confinedTree(t *testing.T) string {
	t.Helper()
	base := t.TempDir()
	root, outside := filepath.Join(base, "root"), filepath.Join(base, "outside")
	for _, d := range []string{filepath.Join(root, "sub"), outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(root, "real.sls"), "a: 1\n")
	write(filepath.Join(root, "sub", "init.sls"), "b: 2\n")
	write(filepath.Join(outside, "shadow"), secret+"\n")
	write(filepath.Join(outside, "x.sls"), secret+"\n")
	for link, to := range map[string]string{
		"inside.sls": "real.sls",
		"shadow.sls": filepath.Join(outside, "shadow"),
		"ext":        outside,
		"sub/up.sls": "../real.sls",
	} {
		if err := os.Symlink(to, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestResolveConfined(t *testing.T) {
	tree := Open(confinedTree(t))
	defer tree.Close()
	tests := []struct {
		name    string
		rel     string
		ok      bool
		outside bool
	}{
		{"real", "real.sls", true, false},
		{"inside", "inside.sls", true, false},
		{"sub", "sub/init.sls", true, false},
		{"sub.up", "sub/up.sls", true, false},
		{"shadow", "shadow.sls", false, true},
		{"ext.x", "ext/x.sls", false, true},
		{"missing", "", false, false},
	}
	for _, tt := range tests {
		rel, _, ok, err := tree.Resolve(tt.name)
		if ok != tt.ok || errors.Is(err, ErrOutside) != tt.outside || (tt.ok && rel != tt.rel) {
			t.Errorf("Resolve(%q) = %q, %v, %v; want %q, ok=%v, outside=%v", tt.name, rel, ok, err, tt.rel, tt.ok, tt.outside)
		}
		if err != nil && (!strings.Contains(err.Error(), tt.rel) || strings.Contains(err.Error(), "outside/")) {
			t.Errorf("Resolve(%q) error %q must name %s and not the outside path", tt.name, err, tt.rel)
		}
	}
}

func TestRenderNeverQuotesOutside(t *testing.T) {
	root := confinedTree(t)
	tree := Open(root)
	defer tree.Close()
	r := render.New(root)
	for _, rel := range []string{"shadow.sls", "ext/x.sls", "../outside/x.sls"} {
		_, err := tree.Render(r, rel, &render.Context{SLS: "x"})
		if err == nil || strings.Contains(err.Error(), "SECRET-MARKER") || !strings.Contains(err.Error(), rel) {
			t.Errorf("Render(%s) error = %v; want an error naming %s without the outside content", rel, err, rel)
		}
	}
	if _, err := tree.Render(r, "inside.sls", &render.Context{SLS: "inside"}); err != nil {
		t.Errorf("Render(inside.sls) through an inside symlink: %v", err)
	}
}

func TestNames(t *testing.T) {
	tree := Open(confinedTree(t))
	defer tree.Close()
	got, err := tree.Names()
	if err != nil {
		t.Fatal(err)
	}
	// ext (a symlinked directory) is not descended into.
	want := []string{"inside", "real", "shadow", "sub", "sub.up"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Names() = %v, want %v", got, want)
	}
}

// TestMatch: exclude and include globs are Salt's fnmatch, not path.Match
// ("*" crosses "/", "[!x]" negates).
func TestMatch(t *testing.T) {
	tests := []struct {
		pat, name string
		want      bool
	}{
		{"incus.*", "incus.cluster", true},
		{"incus*", "incus.a.b", true},
		{"a/*", "a/b/c", true}, // path.Match: false
		{"[!a]x", "bx", true},  // path.Match: error (no match)
		{"[!a]x", "ax", false},
		{"a?c", "abc", true},
		{"[", "[", true}, // an unclosed [ is literal; path.Match: error
	}
	for _, tt := range tests {
		if got := Match(tt.pat, tt.name); got != tt.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tt.pat, tt.name, got, tt.want)
		}
	}
}

// TestResolveRelative moved here whole from runner/compile.
func TestResolveRelative(t *testing.T) {
	tests := []struct {
		inc, sls string
		isInit   bool
		want     string
		wantErr  bool
	}{
		{".settings", "incus.cluster", false, "incus.settings", false},
		{".cluster", "incus", true, "incus.cluster", false},
		{"..x", "incus.cluster", false, "x", false},
		{"..x.y", "a.b.c", false, "a.x.y", false},
		{"..x", "incus", true, "x", false},
		{"...x", "incus", true, "", true},
		{"..x", "top", false, "", true},
		{".", "a.b", false, "", true},
		{"plain.name", "a.b", false, "plain.name", false},
	}
	for _, tt := range tests {
		got, err := Relative(tt.inc, tt.sls, tt.isInit)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("Relative(%q, %q, init=%v) = %q, %q; want %q, error=%v", tt.inc, tt.sls, tt.isInit, got, err, tt.want, tt.wantErr)
		}
	}
}
