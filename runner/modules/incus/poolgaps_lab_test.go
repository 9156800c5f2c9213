package incus_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lxc/incus/v6/shared/api"
)

// TestPendingEntriesUpdated: pending entries made earlier with other
// member values (an interrupted run from another pillar) are updated with
// a targeted PUT, which Incus takes while an entry is pending, before the
// cluster-wide create. Once created, Incus refuses a new source (checked
// here directly), so the plan fails with the way out and writes nothing.
func TestPendingEntriesUpdated(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 3)
	e.bootstrap("node2", "node3")
	c1 := e.client("node1")
	old := memberDirs(t, "node1", "node2")
	dirs := memberDirs(t, "node1", "node2", "node3", "moved")
	for _, n := range []string{"node1", "node2"} {
		if err := c1.UseTarget(n).CreateStoragePool(api.StoragePoolsPost{Name: "pend", Driver: "dir",
			StoragePoolPut: api.StoragePoolPut{Config: map[string]string{"source": old[n]}}}); err != nil {
			t.Fatal(err)
		}
	}
	members := map[string]any{}
	for _, n := range []string{"node1", "node2", "node3"} {
		members[n] = map[string]any{"source": dirs[n]}
	}
	call := mkcall("node1", "storage_pool_present", "pend", map[string]any{"driver": "dir", "members": members})
	r := e.plan(e.newModule(), call)
	if r.planErr != nil || r.plan.Comment != "Storage pool pend would be updated: member config on node1, member config on node2, "+
		"pending entry on node3, cluster-wide create" {
		t.Fatalf("plan: %v %+v", r.planErr, r.plan)
	}
	if r = e.mustApply(e.newModule(), call); r.writes != 4 {
		t.Fatalf("apply: %d writes, want 2 targeted updates, 1 pending entry and the create: %+v", r.writes, r.out)
	}
	if p := getPool(t, c1, "pend"); p.Status != api.StoragePoolStatusCreated {
		t.Fatalf("status %s", p.Status)
	}
	for _, n := range []string{"node1", "node2", "node3"} {
		if got := getPool(t, c1.UseTarget(n), "pend").Config["source"]; got != dirs[n] {
			t.Fatalf("source on %s: %q, want %q", n, got, dirs[n])
		}
	}
	e.mustConverged(e.newModule(), call)

	// Created: Incus refuses a new source for a member's entry ...
	p2, etag, err := c1.UseTarget("node2").GetStoragePool("pend")
	if err != nil {
		t.Fatal(err)
	}
	put := p2.Writable()
	put.Config["source"] = dirs["moved"]
	if err := c1.UseTarget("node2").UpdateStoragePool("pend", put, etag); err == nil || !strings.Contains(err.Error(), "source cannot be changed") {
		t.Fatalf("targeted PUT of a new source on a created pool: %v, want Incus's refusal", err)
	}
	// ... so the plan fails with the way out, before any write.
	members["node2"] = map[string]any{"source": dirs["moved"]}
	r = e.run(e.newModule(), call)
	if r.planErr != nil || !r.plan.Fail || r.writes != 0 || !strings.Contains(r.plan.Comment, "has source "+dirs["node2"]+" on member node2, the state wants "+dirs["moved"]) ||
		!strings.Contains(r.plan.Comment, "incus.storage_pool_absent") {
		t.Fatalf("source change once created: %v, %d writes, %+v", r.planErr, r.writes, r.plan)
	}
}

// TestPendingNetworkEntriesUpdated: the same for a macvlan network's
// parent, which Incus also takes by targeted PUT while pending. The
// entries made earlier name a parent that does not exist, so a create
// before the update would fail on those members (Errored).
func TestPendingNetworkEntriesUpdated(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 3)
	e.bootstrap("node2", "node3")
	c1 := e.client("node1")
	parents := map[string]string{}
	for i, n := range []string{"node1", "node2", "node3"} {
		a := fmt.Sprintf("stpu%d0", i)
		veth(t, a, fmt.Sprintf("stpu%d1", i))
		parents[n] = a
	}
	for _, n := range []string{"node1", "node2"} {
		if err := c1.UseTarget(n).CreateNetwork(api.NetworksPost{Name: "pendnet", Type: "macvlan",
			NetworkPut: api.NetworkPut{Config: map[string]string{"parent": "stpugone"}}}); err != nil {
			t.Fatal(err)
		}
	}
	members := map[string]any{}
	for _, n := range []string{"node1", "node2", "node3"} {
		members[n] = map[string]any{"parent": parents[n]}
	}
	call := mkcall("node2", "network_present", "pendnet", map[string]any{"type": "macvlan", "members": members})
	if r := e.plan(e.newModule(), call); r.planErr != nil || r.plan.Comment != "Network pendnet would be updated: member config on node1, "+
		"member config on node2, pending entry on node3, cluster-wide create" {
		t.Fatalf("plan: %v %+v", r.planErr, r.plan)
	}
	if r := e.mustApply(e.newModule(), call); r.writes != 4 {
		t.Fatalf("apply: %d writes, want 4: %+v", r.writes, r.out)
	}
	for _, n := range []string{"node1", "node2", "node3"} {
		got, _, err := c1.UseTarget(n).GetNetwork("pendnet")
		if err != nil || got.Status != api.NetworkStatusCreated || got.Config["parent"] != parents[n] {
			t.Fatalf("on %s: %v %+v, want parent %s", n, err, got, parents[n])
		}
	}
	e.mustConverged(e.newModule(), call)
}

// TestCreateReadBackFailureReported: after the cluster-wide create, the
// same apply reads the pool back to converge what the create did not set;
// when that fails (here: the description was changed meanwhile and node3
// stopped answering, so the update cannot be sent), the outcome fails and
// says so instead of reporting success. The statectl process stops itself
// before the read-back (STATECTL_TEST_HOLD_BEFORE=converge) so the test
// can change the cluster at that point.
func TestCreateReadBackFailureReported(t *testing.T) {
	t.Parallel()
	p := newProcEnv(t, 3, "")
	p.bootstrap("node2", "node3")
	c1 := p.client("node1")
	dirs := memberDirs(t, "node1", "node2", "node3")
	for _, n := range []string{"node2", "node3"} {
		if err := c1.UseTarget(n).CreateStoragePool(api.StoragePoolsPost{Name: "rb", Driver: "dir",
			StoragePoolPut: api.StoragePoolPut{Config: map[string]string{"source": dirs[n]}}}); err != nil {
			t.Fatal(err)
		}
	}
	states := p.flags[1+indexOf(p.flags, "--states")]
	sls := fmt.Sprintf("rb:\n  incus.storage_pool_present:\n    - driver: dir\n    - description: wanted\n    - config: {source: %s}\n", dirs["node1"])
	if err := os.WriteFile(filepath.Join(states, "rb.sls"), []byte(sls), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(p.bin, append([]string{"apply", "node1", "rb"}, p.flags...)...)
	cmd.Env = append(os.Environ(), "STATECTL_TEST_HOLD_BEFORE=converge")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	for deadline := time.Now().Add(60 * time.Second); !stopped(cmd.Process.Pid); time.Sleep(5 * time.Millisecond) {
		select {
		case err := <-done:
			t.Fatalf("statectl ended before the hold: %v\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("statectl did not reach the hold")
		}
	}
	pool, etag, err := c1.GetStoragePool("rb")
	if err != nil || pool.Status != api.StoragePoolStatusCreated {
		t.Fatalf("at the hold: %v %+v", err, pool)
	}
	put := pool.Writable()
	put.Description = "changed meanwhile"
	if err := c1.UpdateStoragePool("rb", put, etag); err != nil {
		t.Fatal(err)
	}
	thaw := p.freeze("node3")
	defer thaw()
	if err := cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatalf("statectl still running 60 s after the hold\n%s", out.String())
	}
	text := out.String()
	if code := cmd.ProcessState.ExitCode(); code != 2 || !strings.Contains(text, "reading it back to converge it failed (a re-run converges it)") ||
		!strings.Contains(text, "node3") {
		t.Fatalf("exit %d, want 2 and the read-back failure naming node3:\n%s", code, text)
	}
	thaw()
}
