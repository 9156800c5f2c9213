package bench

import (
	"os"
	"path/filepath"
	"testing"
)

// TestOpenCounter shows the counter sees back-to-back opens of one file
// (which inotify would merge were closes not watched) and keeps files
// apart.
func TestOpenCounter(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	for _, p := range []string{a, b} {
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	oc, err := NewOpenCounter(a, b)
	if err != nil {
		t.Fatal(err)
	}
	defer oc.Close()
	for _, tc := range []struct {
		reads []string
		wantA int
		wantB int
	}{
		{[]string{a, a, a}, 3, 0},
		{[]string{b, a, b}, 1, 2},
		{nil, 0, 0},
	} {
		for _, p := range tc.reads {
			if _, err := os.ReadFile(p); err != nil {
				t.Fatal(err)
			}
		}
		got, err := oc.Take()
		if err != nil {
			t.Fatal(err)
		}
		if got[a] != tc.wantA || got[b] != tc.wantB {
			t.Errorf("reads %v: counted a=%d b=%d, want %d %d", tc.reads, got[a], got[b], tc.wantA, tc.wantB)
		}
	}
}
