package incus_test

import (
	"context"
	"github.com/statectl/statectl/runner/module"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/statectl/statectl/runner/incusconn"
	incusmod "github.com/statectl/statectl/runner/modules/incus"
)

// TestFrozenMember: a member whose daemon stops answering (SIGSTOP) is
// listed Online for cluster.offline_threshold, and Incus holds cluster-wide
// writes and joins until it answers.
func TestFrozenMember(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 3)
	e.bootstrap("node2")
	c1 := e.client("node1")
	thaw := e.freeze("node2")

	// A join would stall: refused in plan, with the member named; the
	// engine's apply of the failing plan writes nothing.
	join3 := mkcall("node3", "cluster_member_present", "node3", map[string]any{
		"address": e.addr("node3"), "cluster": []any{"node1"}, "groups": []any{"default", "late"},
	})
	r := e.run(e.mod, join3)
	if r.planErr != nil || !r.plan.Fail || !strings.Contains(r.plan.Comment, "node2: listed Online but did not answer") {
		t.Fatalf("join with node2 frozen: %v %+v", r.planErr, r.plan)
	}
	if r.out == nil || !r.out.Failed || r.out.Comment != r.plan.Comment || r.writes != 0 {
		t.Fatalf("apply of the refused join: %v %+v, %d writes", r.applErr, r.out, r.writes)
	}
	// The settings of the server left out are not written: the engine
	// hands the failed join on to the states after it.
	set3 := mkcall("node3", "settings_present", "s", map[string]any{"config": map[string]any{"user.x": "1"}})
	set3.Upstream = []module.Upstream{{Target: "node3", ID: join3.ID, Module: "incus", Function: join3.Function,
		Name: join3.Name, Action: r.plan.Action, Status: module.Failed}}
	if r := e.run(e.mod, set3); r.planErr != nil || !r.plan.Fail || !strings.Contains(r.plan.Comment, "node3 failed to join its cluster in this run") || r.writes != 0 {
		t.Fatalf("settings after the refused join: %v %+v, %d writes", r.planErr, r.plan, r.writes)
	}

	// A write is held until every member answers (Incus notifies them
	// all), and a cluster-wide value is stored only then, after the run
	// reported a timeout: refused in plan, for member-local keys too.
	for _, cfg := range []map[string]any{{"user.x": "1"}, {"core.metrics_address": "127.0.0.1:0"}} {
		r = e.run(e.mod, mkcall("node1", "settings_present", "s", map[string]any{"config": cfg}))
		if r.planErr != nil || !r.plan.Fail || !strings.Contains(r.plan.Comment, "cannot be written now: node2: listed Online but did not answer") || r.writes != 0 {
			t.Fatalf("write of %v with node2 frozen: %v %+v, %d writes", cfg, r.planErr, r.plan, r.writes)
		}
	}
	// A member that freezes between plan and apply: a member-local value
	// is stored before the notification that times out. Re-read, the
	// write is reported done, with the error.
	thaw()
	local := mkcall("node1", "settings_present", "s", map[string]any{"config": map[string]any{"core.metrics_address": "127.0.0.1:0"}})
	short := incusmod.New(e.roster, incusconn.Options{Counter: &e.counter, RequestTimeout: time.Second})
	t.Cleanup(func() { _ = short.(io.Closer).Close() })
	p := e.plan(short, local).plan
	if p == nil || p.Fail || len(p.Changes) == 0 {
		t.Fatalf("plan with every member answering: %+v", p)
	}
	thaw = e.freeze("node2")
	out, err := short.Apply(context.Background(), local, p)
	if err != nil || out.Failed || !strings.Contains(out.Comment, "values are stored") {
		t.Fatalf("write held by a frozen member: %v %+v", err, out)
	}
	if srv, _, err := c1.GetServer(); err != nil || srv.Config["core.metrics_address"] != "127.0.0.1:0" {
		t.Fatalf("core.metrics_address not stored: %v %v", err, srv)
	}

	thaw()
	m := e.newModule()
	e.mustApply(m, join3)
	e.mustConverged(m, join3)

	// A concurrent edit between plan and apply of an update that creates a
	// group fails before the group is created.
	regroup := mkcall("node1", "cluster_member_present", "node3", map[string]any{
		"address": e.addr("node3"), "groups": []any{"default", "fresh"},
	})
	p, err = m.Plan(context.Background(), regroup)
	if err != nil || len(p.Changes) == 0 {
		t.Fatalf("regroup plan: %v %+v", err, p)
	}
	drift(t, c1, "node3", "edited")
	out, err = m.Apply(context.Background(), regroup, p)
	if err != nil || !out.Failed || !strings.Contains(out.Comment, "changed concurrently") {
		t.Fatalf("concurrent edit: %v %+v", err, out)
	}
	if names, err := c1.GetClusterGroupNames(); err != nil || contains(names, "fresh") {
		t.Fatalf("group created by a refused apply: %v %v", names, err)
	}
	e.mustApply(m, regroup)
	e.mustConverged(m, regroup)

	// A member whose daemon is gone (SIGTERM) refuses connections: its own
	// states fail at once with the reason, and the others still converge
	// and write (a module whose requests give up after 5 s: nothing may
	// wait for the dead member).
	n3, _ := e.lab.Member("node3")
	if err := syscall.Kill(n3.PID, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(n3.Socket); os.IsNotExist(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("node3 did not stop")
		}
	}
	bounded := incusmod.New(e.roster, incusconn.Options{Counter: &e.counter, RequestTimeout: 5 * time.Second})
	t.Cleanup(func() { _ = bounded.(io.Closer).Close() })
	if r := e.plan(bounded, mkcall("node3", "settings_present", "s", map[string]any{"config": map[string]any{"user.x": "2"}})); r.planErr == nil || !strings.Contains(r.planErr.Error(), "failed to connect to node3") {
		t.Fatalf("settings on a stopped member: %v %+v", r.planErr, r.plan)
	}
	e.mustConverged(bounded, regroup)
	e.mustApply(bounded, mkcall("node1", "settings_present", "s", map[string]any{"config": map[string]any{"user.x": "2"}}))
}

// TestAbsentFrozenMember: removing a member that does not answer is
// refused without force within the probe timeout (Incus would hold the
// removal for the request timeout, then remove it anyway, and the member
// never becomes ready again); with force it is removed.
func TestAbsentFrozenMember(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 3)
	e.bootstrap("node2", "node3")
	c1 := e.client("node1")
	e.freeze("node3")

	absent := mkcall("node1", "cluster_member_absent", "node3", nil)
	start := time.Now()
	r := e.run(e.newModule(), absent)
	took := time.Since(start)
	t.Logf("absent node3 (frozen), no force: %v in %v", r.plan, took.Round(time.Millisecond))
	if r.planErr != nil || !r.plan.Fail || !strings.Contains(r.plan.Comment, "node3 does not answer") ||
		!strings.Contains(r.plan.Comment, "force: true") || r.writes != 0 {
		t.Fatalf("absent of a frozen member without force: %v %+v %+v, %d writes", r.planErr, r.plan, r.out, r.writes)
	}
	if took > 5*time.Second {
		t.Fatalf("refusal took %v, want within the probe timeout", took)
	}
	if _, ok := members(t, c1)["node3"]; !ok {
		t.Fatalf("node3 removed by a refused removal")
	}

	force := mkcall("node1", "cluster_member_absent", "node3", map[string]any{"force": true})
	start = time.Now()
	r = e.mustApply(e.newModule(), force)
	t.Logf("absent node3 (frozen), force: %+v in %v", r.out, time.Since(start).Round(time.Millisecond))
	if _, ok := members(t, c1)["node3"]; ok {
		t.Fatalf("node3 still listed after a forced removal")
	}
}
