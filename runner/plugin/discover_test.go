package plugin

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestSearchPath(t *testing.T) {
	tests := []struct {
		name, env, xdg, home string
		want                 []string
	}{
		{name: "env only", env: "/a:/b::/c", xdg: "/x", want: []string{"/a", "/b", "/c"}},
		{name: "default", xdg: "/x", want: []string{"srv/plugins", "/x/statectl/plugins"}},
		{name: "no xdg", home: "/home/u", want: []string{"srv/plugins", "/home/u/.local/share/statectl/plugins"}},
		{name: "relative xdg ignored", xdg: "rel", home: "/home/u", want: []string{"srv/plugins", "/home/u/.local/share/statectl/plugins"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(PathEnv, tt.env)
			t.Setenv("XDG_DATA_HOME", tt.xdg)
			t.Setenv("HOME", tt.home)
			if got := SearchPath("srv/states/"); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDiscover(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	write := func(dir, name string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	fileA := write(a, "statectl-module-file", 0o755)
	write(b, "statectl-module-file", 0o755) // shadowed by a's
	write(a, "statectl-module-noexec", 0o644)
	write(a, "statectl-module-Bad-Name", 0o755)
	write(a, "other-tool", 0o755)
	pkgB := write(b, "statectl-module-pkg_2", 0o755)
	if err := os.Mkdir(filepath.Join(a, "statectl-module-dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(pkgB, filepath.Join(b, "statectl-module-link")); err != nil {
		t.Fatal(err)
	}
	got := Discover([]string{a, filepath.Join(a, "missing"), b})
	want := map[string]string{"file": fileA, "pkg_2": pkgB, "link": filepath.Join(b, "statectl-module-link")}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
}
