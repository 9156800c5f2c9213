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
