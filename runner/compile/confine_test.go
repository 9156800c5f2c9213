package compile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/statectl/statectl/runner/target"
)

// outsideLink writes secret to a file outside root and links root/link to
// it; it returns the outside file's path.
func outsideLink(t *testing.T, root, link, secret string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "shadow")
	if err := os.WriteFile(out, []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(out, filepath.Join(root, filepath.FromSlash(link))); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestConfinedToStateRoot: an SLS, include or top file that is a symlink
// leading outside the state root is refused, naming the file in the tree
// and never quoting the outside file; a symlink inside the tree works.
func TestConfinedToStateRoot(t *testing.T) {
	const secret = "root:$6$SECRET-MARKER-4711:19000:0:99999:7:::\n"
	tests := []struct {
		name   string
		files  map[string]string
		link   string // symlinked to the outside secret
		sls    []string
		naming string
	}{
		{"named SLS", map[string]string{"a.sls": "a: test.nop\n"}, "shadow.sls", []string{"shadow"}, "shadow.sls"},
		{"include", map[string]string{"a.sls": "include: [shadow]\na: test.nop\n"}, "shadow.sls", []string{"a"}, "shadow.sls"},
		{"relative include", map[string]string{"d/init.sls": "include: [.s]\n"}, "d/s.sls", []string{"d"}, "d/s.sls"},
		{"init", map[string]string{"d/x.sls": "x: test.nop\n"}, "d/init.sls", []string{"d"}, "d/init.sls"},
		{"top file", map[string]string{"a.sls": "a: test.nop\n"}, "top.sls", nil, "top.sls"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := writeTree(t, tt.files)
			outside := outsideLink(t, root, tt.link, secret)
			opts := Options{Root: root, Registry: testRegistry(), Target: &target.Subject{ID: "n1"}}
			var err error
			if tt.sls == nil {
				_, err = Highstate(opts)
			} else {
				_, err = SLS(opts, tt.sls...)
			}
			if err == nil {
				t.Fatal("compile succeeded; want a refusal")
			}
			msg := err.Error()
			if strings.Contains(msg, "SECRET-MARKER") || strings.Contains(msg, outside) || !strings.Contains(msg, tt.naming) {
				t.Errorf("error = %q; want it to name %s and never the outside file or its content", msg, tt.naming)
			}
		})
	}
	root := writeTree(t, map[string]string{"real.sls": "r: test.nop\n", "top.sls": "base:\n  '*': [inside]\n"})
	if err := os.Symlink("real.sls", filepath.Join(root, "inside.sls")); err != nil {
		t.Fatal(err)
	}
	if _, err := Highstate(Options{Root: root, Registry: testRegistry(), Target: &target.Subject{ID: "n1"}}); err != nil {
		t.Errorf("a symlink inside the tree must stay usable: %v", err)
	}
}
