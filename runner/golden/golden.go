// Package golden compares test output with golden files under testdata/.
// `go test ./runner/... -update` rewrites them instead; review the diff.
package golden

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files instead of comparing with them")

// Update reports whether the test run rewrites golden files (for files a
// test compares its own way, such as generated docs).
func Update() bool { return *update }

// Read returns the golden file at path; with -update it first writes got
// there (creating directories). A missing file fails the test with how to
// create it.
func Read(t testing.TB, path string, got []byte) []byte {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	return want
}

// Check fails the test unless got equals the golden file at path.
func Check(t testing.TB, path string, got []byte) {
	t.Helper()
	if want := Read(t, path, got); !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}
