package labtest

import (
	"net"
	"os"
	"os/exec"
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

// A crashed netns lab leaves namespaces and interfaces that no lab.json
// names (the slot directory may be gone too): the sweep of the next
// StartNetns removes them by their slot's tag.
func TestSweepRemovesStaleNetns(t *testing.T) {
	if err := lab.Available(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("integration test needs a lab: %v", err)
		}
		t.Skip(err)
	}
	if err := os.MkdirAll(Root(), 0o755); err != nil {
		t.Fatal(err)
	}
	s := 0
	var lock *os.File
	for c := lastSlot; c >= firstSlot && s == 0; c-- {
		if f, ok := tryLock(filepath.Join(Root(), "slot"+strconv.Itoa(c)+".lock")); ok {
			s, lock = c, f
		}
	}
	if s == 0 {
		t.Fatal("no free slot")
	}
	tag := slotTag(s)
	ns, br := lab.NetnsName(tag, 5), lab.BridgeName(tag)
	subnet := slotPrefix(s, true) + ".0/24"
	for _, args := range [][]string{{"netns", "add", ns}, {"link", "add", br, "type", "bridge"}, {"route", "add", "unreachable", subnet}} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v: %s", args, err, out)
		}
	}
	t.Cleanup(func() { _ = lab.RemoveNetns(tag, slotPrefix(s, true)) })
	if !lab.NetnsLeft(tag) {
		t.Fatal("NetnsLeft does not see the stale namespace")
	}
	lock.Close() // the crashed process's lock is gone with it
	l := StartNetns(t, 1)
	if _, err := os.Stat("/run/netns/" + ns); err == nil {
		t.Errorf("stale namespace %s not swept", ns)
	}
	if _, err := os.Stat("/sys/class/net/" + ns); err == nil {
		t.Errorf("stale interface %s not swept", ns)
	}
	if out, _ := exec.Command("ip", "-4", "route", "show", "exact", subnet).Output(); len(out) > 0 && l.Netns != tag {
		t.Errorf("stale route not swept: %s", out)
	}
}
