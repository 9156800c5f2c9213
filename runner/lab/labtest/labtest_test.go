package labtest

import (
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"

	"github.com/statectl/statectl/runner/lab"
)

// fakeTB records how Start ends a test without ending this one.
type fakeTB struct {
	testing.TB
	skipped, fataled string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Skipf(format string, args ...any) {
	f.skipped = format
	runtime.Goexit()
}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.fataled = format
	runtime.Goexit()
}

func run(tb *fakeTB, n int) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		Start(tb, n)
	}()
	<-done
}

func TestSkipOrFailWithoutIncusd(t *testing.T) {
	t.Setenv(lab.IncusdEnv, filepath.Join(t.TempDir(), "missing-incusd"))
	for _, ci := range []string{"", "true"} {
		t.Setenv("CI", ci)
		tb := &fakeTB{TB: t}
		run(tb, 1)
		if ci == "true" && (tb.fataled == "" || tb.skipped != "") {
			t.Errorf("CI=true: fatal=%q skip=%q, want a failure", tb.fataled, tb.skipped)
		}
		if ci == "" && (tb.skipped == "" || tb.fataled != "") {
			t.Errorf("CI unset: fatal=%q skip=%q, want a skip", tb.fataled, tb.skipped)
		}
	}
}

// A slot whose first address is taken (a hand-started daemon, say) is
// passed over.
func TestBusySlotSkipped(t *testing.T) {
	if err := lab.Available(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("integration test needs a lab: %v", err)
		}
		t.Skip(err)
	}
	if err := os.MkdirAll(Root(), 0o755); err != nil {
		t.Fatal(err)
	}
	// Find a slot no one holds and occupy its first address.
	var busy string
	var ln net.Listener
	for s := firstSlot; s <= lastSlot && ln == nil; s++ {
		lock, ok := tryLock(filepath.Join(Root(), "slot"+strconv.Itoa(s)+".lock"))
		if !ok {
			continue
		}
		busy = "127.0." + strconv.Itoa(s) + ".11:8443"
		ln, _ = net.Listen("tcp", busy)
		lock.Close()
	}
	if ln == nil {
		t.Skip("no slot to occupy")
	}
	defer ln.Close()
	l := Start(t, 1)
	if l.Members[0].Address == busy {
		t.Fatalf("busy slot used: %s %s", l.Dir, busy)
	}
}
