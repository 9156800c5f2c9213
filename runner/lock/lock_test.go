package lock

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestAcquireExcludesAndReportsHolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "locks")
	started := time.Date(2025, 11, 21, 10, 15, 1, 936011000, time.UTC)
	l, err := Acquire(context.Background(), dir, Holder{Target: "node2", Function: "state.apply", Started: started}, 0)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("lock dir: %v %v", fi, err)
	}
	// A second open file description conflicts even in this process.
	_, err = Acquire(context.Background(), dir, Holder{Target: "node2", Function: "state.watch"}, 120*time.Millisecond)
	var busy *BusyError
	if !errors.As(err, &busy) {
		t.Fatalf("second Acquire: %v, want BusyError", err)
	}
	want := `another run is in progress for node2: The function "state.apply" is running as PID ` +
		strconv.Itoa(os.Getpid()) + ` and was started at 2025, Nov 21 10:15:01.936011 with jid 20251121101501936011`
	if err.Error() != want {
		t.Fatalf("error\n got %s\nwant %s", err, want)
	}
	// Another target is independent.
	other, err := Acquire(context.Background(), dir, Holder{Target: "node3"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	other.Release()

	// A waiter gets the lock once it is released.
	done := make(chan error, 1)
	go func() {
		l2, err := Acquire(context.Background(), dir, Holder{Target: "node2"}, 10*time.Second)
		if err == nil {
			err = l2.Release()
		}
		done <- err
	}()
	time.Sleep(2 * pollInterval)
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("waiter: %v", err)
	}
}

func TestAcquireHonoursContext(t *testing.T) {
	dir := t.TempDir()
	l, err := Acquire(context.Background(), dir, Holder{Target: "n"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = Acquire(ctx, dir, Holder{Target: "n"}, time.Hour)
	var busy *BusyError
	if !errors.As(err, &busy) {
		t.Fatalf("Acquire with cancelled ctx: %v", err)
	}
}

func TestPath(t *testing.T) {
	for _, tt := range []struct{ target, want string }{
		{"node2", "node2.lock"},
		{"web-1.example.com", "web-1.example.com.lock"},
		{"../etc/passwd", "..%2Fetc%2Fpasswd.lock"},
		{"..", "%...lock"},
		{"a b", "a%20b.lock"},
	} {
		got := Path("/d", tt.target, "")
		if got != "/d/"+tt.want || filepath.Dir(got) != "/d" {
			t.Errorf("Path(%q) = %s, want /d/%s", tt.target, got, tt.want)
		}
	}
}

func TestPathEndpoint(t *testing.T) {
	a := Path("/d", "node2", "/tmp/lab1/node2/unix.socket")
	b := Path("/d", "node2", "/tmp/lab2/node2/unix.socket")
	if a == b || !strings.HasPrefix(filepath.Base(a), "node2@") {
		t.Errorf("same name, different daemons: %s %s", a, b)
	}
	if a != Path("/d", "node2", "/tmp/lab1/node2/unix.socket") {
		t.Error("Path not stable")
	}
}

func TestDefaultDir(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", "/run/user/1000")
	if got := DefaultDir(); got != "/run/user/1000/statectl" {
		t.Errorf("DefaultDir = %s", got)
	}
	t.Setenv("XDG_RUNTIME_DIR", "")
	if got := DefaultDir(); !strings.HasSuffix(got, "statectl") && !strings.Contains(got, "statectl-") {
		t.Errorf("DefaultDir = %s", got)
	}
}

// TestAcquireRefusesSymlink: a symlink planted at the lock path is not
// followed (before O_NOFOLLOW, Acquire truncated the victim and wrote the
// holder into it).
func TestAcquireRefusesSymlink(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	if err := os.WriteFile(victim, []byte("precious\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, Path(dir, "node1", "")); err != nil {
		t.Fatal(err)
	}
	l, err := Acquire(context.Background(), dir, Holder{Target: "node1", Function: "state.apply"}, 0)
	if err == nil {
		l.Release()
		t.Fatal("lock taken through a symlink")
	}
	if !strings.Contains(err.Error(), "is a symbolic link; refusing to follow it") {
		t.Errorf("err = %v", err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious\n" {
		t.Errorf("victim changed: %q", b)
	}
}

// TestAcquireChecksDir: lock directories another user can tamper with are
// refused; ours, root's private ones and sticky shared ones are fine.
func TestAcquireChecksDir(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to create directories owned by another uid")
	}
	const other = 12345
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // tmpFallback lives under os.TempDir()
	tests := []struct {
		name  string
		dir   string
		mode  os.FileMode
		owner int
		want  string // "" for accepted
	}{
		{"ours", filepath.Join(tmp, "ours"), 0o700, os.Getuid(), ""},
		{"ours world-writable", filepath.Join(tmp, "ours-ww"), 0o777, os.Getuid(), ""},
		{"other world-writable", filepath.Join(tmp, "other-ww"), 0o777, other, "world-writable and owned by uid 12345"},
		{"other sticky", filepath.Join(tmp, "other-sticky"), 0o777 | os.ModeSticky, other, ""},
		{"other private", filepath.Join(tmp, "other-private"), 0o755, other, ""},
		{"fallback of another user", tmpFallback(), 0o755, other, "owned by uid 12345, not by us"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := os.Mkdir(tt.dir, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(tt.dir, tt.mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chown(tt.dir, tt.owner, tt.owner); err != nil {
				t.Fatal(err)
			}
			l, err := Acquire(context.Background(), tt.dir, Holder{Target: "n", Function: "state.apply"}, 0)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				l.Release()
				return
			}
			if err == nil {
				l.Release()
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.dir) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}
