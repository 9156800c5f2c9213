package pillar

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfinedToPillarRoot: pillar files that are symlinks leading outside
// the pillar root are refused, naming the file in the tree and never
// quoting the outside file; a symlink inside the tree works.
func TestConfinedToPillarRoot(t *testing.T) {
	const secret = "root:$6$SECRET-MARKER-4711:19000:0:99999:7:::\n"
	tests := []struct {
		name   string
		files  map[string]string
		link   string
		naming string
	}{
		{"top SLS", map[string]string{"top.sls": "base:\n  '*': [shadow]\n"}, "shadow.sls", "shadow.sls"},
		{"include", map[string]string{"top.sls": "base:\n  '*': [a]\n", "a.sls": "include: [.shadow]\nx: 1\n"}, "shadow.sls", "shadow.sls"},
		{"glob include", map[string]string{"top.sls": "base:\n  '*': [a]\n", "a.sls": "include: ['s*']\nx: 1\n"}, "shadow.sls", "shadow.sls"},
		{"top file", map[string]string{"a.sls": "x: 1\n"}, "top.sls", "top.sls"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := writeTree(t, tt.files)
			out := filepath.Join(t.TempDir(), "shadow")
			if err := os.WriteFile(out, []byte(secret), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(out, filepath.Join(root, tt.link)); err != nil {
				t.Fatal(err)
			}
			_, err := Compile(root, "n1", nil, nil)
			if err == nil {
				t.Fatal("pillar compiled; want a refusal")
			}
			msg := err.Error()
			if strings.Contains(msg, "SECRET-MARKER") || strings.Contains(msg, out) || !strings.Contains(msg, tt.naming) {
				t.Errorf("error = %q; want it to name %s and never the outside file or its content", msg, tt.naming)
			}
		})
	}
	root := writeTree(t, map[string]string{"top.sls": "base:\n  '*': [inside]\n", "real.sls": "x: 1\n"})
	if err := os.Symlink("real.sls", filepath.Join(root, "inside.sls")); err != nil {
		t.Fatal(err)
	}
	p, err := Compile(root, "n1", nil, nil)
	if err != nil || p["x"] != 1 {
		t.Errorf("a symlink inside the tree must stay usable: %v, %v", p, err)
	}
}
