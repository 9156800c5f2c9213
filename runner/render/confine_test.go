package render

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfinedToRoot renders a real tree whose symlinks lead out of it to a
// directory holding a marker secret. Every way a template reads a file must
// refuse them, and no error may quote the outside file. Before reads went
// through os.Root, each case printed the marker.
func TestConfinedToRoot(t *testing.T) {
	const marker = "MARKER-SECRET-8c1f"
	outside := t.TempDir()
	for name, body := range map[string]string{
		"client.key": marker + "\n",
		"data.yaml":  "k: " + marker + "\n",
		"data.json":  `{"k": "` + marker + `"}`,
		"macros.sls": "{% macro m() %}" + marker + "{% endmacro %}\n",
		"shadow":     marker + ":x:1:\nroot: " + marker + "\n",
	} {
		if err := os.WriteFile(filepath.Join(outside, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	root := writeTree(t, map[string]string{
		"in/ok.txt":     "inside\n",
		"cases/x.sls":   "",
		"pongo/inc.sls": "",
	})
	links := map[string]string{
		"ext":        outside,
		"shadow.sls": filepath.Join(outside, "shadow"),
		"in/link":    filepath.Join(root, "in", "ok.txt"), // inside: keeps working
		"in/dirlink": "../in",                             // relative, inside
		"up":         "..",                                // relative, leads out
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct{ name, src string }{
		{"import_text", `{% import_text "ext/client.key" as k %}{{ k }}`},
		{"import_yaml", `{% import_yaml "ext/data.yaml" as k %}{{ k }}`},
		{"import_json", `{% import_json "ext/data.json" as k %}{{ k }}`},
		{"import", `{% import "ext/macros.sls" as k %}{{ k.m() }}`},
		{"from", `{% from "ext/macros.sls" import m %}{{ m() }}`},
		{"include", `{% include "ext/client.key" %}`},
		{"extends", `{% extends "ext/client.key" %}`},
		{"relative", `{% include "./../ext/client.key" %}`},
		{"shadow", `{% include "shadow.sls" %}`},
		{"parent link", `{% import_text "up/` + filepath.Base(outside) + `/client.key" as k %}{{ k }}`},
		{"absolute", `{% import_text "` + filepath.Join(outside, "client.key") + `" as k %}{{ k }}`},
		{"pongo2 include", "#!pongo2|yaml\n{% include \"ext/client.key\" %}"},
		{"pongo2 absolute", "#!pongo2|yaml\n{% include \"" + filepath.Join(outside, "client.key") + "\" %}"},
	}
	r := New(root)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := r.RenderString("cases/x.sls", []byte(c.src), testContext("cases.x"))
			if err == nil {
				t.Fatalf("rendered %q, want an error", out)
			}
			if strings.Contains(err.Error(), marker) || strings.Contains(string(out), marker) {
				t.Fatalf("outside file leaked: %v", err)
			}
		})
	}
	t.Run("top file is a link out", func(t *testing.T) {
		_, err := r.RenderFile("shadow.sls", testContext("shadow"))
		if err == nil || strings.Contains(err.Error(), marker) || !strings.Contains(err.Error(), "outside the file root") {
			t.Fatalf("err = %v, want refused without quoting the file", err)
		}
	})
	t.Run("links inside the tree work", func(t *testing.T) {
		out, err := r.RenderString("cases/x.sls", []byte(`{% import_text "in/link" as a %}{% import_text "in/dirlink/ok.txt" as b %}{{ a }}{{ b }}`), testContext("cases.x"))
		if err != nil || string(out) != "insideinside" {
			t.Fatalf("got %q, %v", out, err)
		}
	})
}
