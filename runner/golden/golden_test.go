package golden

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// recorder is a testing.TB that keeps what a check reported.
type recorder struct {
	testing.TB
	failed bool
	msg    string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.failed = true
	r.msg = format
}

func TestCheck(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "x.golden")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("want\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := &recorder{TB: t}
	Check(r, path, []byte("want\n"))
	if r.failed {
		t.Fatal("equal content failed")
	}
	Check(r, path, []byte("got\n"))
	if !r.failed || !strings.Contains(r.msg, "go test -update rewrites it") {
		t.Fatalf("different content: failed=%v %q", r.failed, r.msg)
	}

	*update = true
	defer func() { *update = false }()
	fresh := filepath.Join(t.TempDir(), "new", "y.golden")
	if got := Read(t, fresh, []byte("made\n")); string(got) != "made\n" {
		t.Fatalf("-update did not write the file: %q", got)
	}
}
