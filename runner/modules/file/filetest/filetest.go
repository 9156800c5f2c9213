// Package filetest builds the conformance case of the file module, shared
// by its in-process test and the plugin's out-of-process test, so both
// kinds are held to the same steps.
package filetest

import (
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/statectl/statectl/runner/module"
	"github.com/statectl/statectl/runner/module/conformance"
)

// Case returns the file module's conformance case on a fresh temporary
// directory, with m serving the module (in-process or a plugin).
func Case(t testing.TB, m module.Module) conformance.Case {
	root := t.TempDir()
	work := filepath.Join(root, "work")
	states := filepath.Join(root, "states")
	if err := os.MkdirAll(filepath.Join(states, "files"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(work, 0o755); err != nil {
		t.Fatal(err)
	}
	tpl := "host={{ grains['id'] }} role={{ pillar['role'] }}\n"
	if err := os.WriteFile(filepath.Join(states, "files", "motd.j2"), []byte(tpl), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(work, "old"), []byte("remove me\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(work, "existing"), []byte("a\nb\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := func(name string) string { return filepath.Join(work, name) }
	return conformance.Case{
		Module: m,
		Target: &module.Target{
			Name:      "node1",
			Grains:    map[string]any{"id": "node1"},
			Pillar:    map[string]any{"role": "web"},
			StateRoot: states,
		},
		Steps: []conformance.Step{
			{Function: "managed", Args: map[string]any{"name": p("existing"), "contents": "a\nB", "mode": "0640"}},
			{Function: "managed", Args: map[string]any{"name": p("motd"), "source": "salt://files/motd.j2", "template": "jinja"}},
			{Function: "managed", Args: map[string]any{"name": p("deep/dir/conf"), "contents": "x", "makedirs": true, "mode": "0600"}},
			{Function: "managed", Args: map[string]any{"name": p("empty")}},
			{Function: "managed", Args: map[string]any{"name": p("kept"), "contents": "first", "replace": false}},
			{Function: "absent", Args: map[string]any{"name": p("old")}},
			{Function: "absent", Args: map[string]any{"name": p("never")}, Converged: true},
		},
		Invalid: []conformance.Step{
			{Function: "managed", Args: map[string]any{"name": "relative/path", "contents": "x"}},
			{Function: "managed", Args: map[string]any{"name": p("a"), "contents": "x", "source": "salt://files/motd.j2"}},
			{Function: "managed", Args: map[string]any{"name": p("a"), "mode": 420}},
			{Function: "managed", Args: map[string]any{"name": p("a"), "mode": "rw-r--r--"}},
			{Function: "managed", Args: map[string]any{"name": p("a"), "source": "x", "template": "mako"}},
			{Function: "managed", Args: map[string]any{"name": p("a"), "makedirs": "yes"}},
			{Function: "managed", Args: map[string]any{"name": p("a"), "nosuch": 1}},
			{Function: "absent", Args: map[string]any{"name": "/"}},
			{Function: "copy", Args: map[string]any{"name": p("a")}},
		},
		Snapshot: func(t testing.TB) string { return Snapshot(t, work) },
		Stale: func(t testing.TB) {
			if err := os.WriteFile(p("existing"), []byte("edited behind statectl's back\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		},
	}
}

// Snapshot describes every file below dir: path, type, mode, owner and a
// content hash.
func Snapshot(t testing.TB, dir string) string {
	var b strings.Builder
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		fmt.Fprintf(&b, "%s %s", rel, fi.Mode())
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			fmt.Fprintf(&b, " %d:%d", st.Uid, st.Gid)
		}
		if fi.Mode().IsRegular() {
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			fmt.Fprintf(&b, " %x", sha256.Sum256(data))
		}
		b.WriteString("; ")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}
