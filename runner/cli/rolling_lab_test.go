package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lxc/incus/v6/shared/api"

	"github.com/statectl/statectl/runner/lab"
	"github.com/statectl/statectl/runner/report"
)

// The rolling tests run incus.maintenance with --batch 1 on a 3-member lab:
// `statectl lab restart` (the test binary is statectl on PATH, see
// TestMain) stands in for an upgrade.

// maintPillar adds incus:maintenance:command to the lab's pillar.
func maintPillar(t *testing.T, e *e2e, command string) {
	t.Helper()
	dir := e.lab.PillarDir()
	body := fmt.Sprintf("incus:\n  maintenance:\n    command: %q\n    online_wait: 120\n    wait: 120\n", command)
	if err := os.WriteFile(filepath.Join(dir, "maint.sls"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	top := "base:\n  '*':\n    - incus\n    - maint\n"
	if err := os.WriteFile(filepath.Join(dir, "top.sls"), []byte(top), 0o644); err != nil {
		t.Fatal(err)
	}
}

// reloadLab keeps the test's lab in step with `statectl lab restart` run as
// a process (new daemon PIDs), so the lab's cleanup stops the new daemons.
func reloadLab(t *testing.T, e *e2e) {
	t.Cleanup(func() {
		if fresh, err := lab.Load(e.lab.Dir); err == nil {
			e.lab.Members = fresh.Members
		}
	})
}

// memberStatus reads every member's status through via.
func (e *e2e) memberStatus(t *testing.T, via string) map[string]string {
	t.Helper()
	members, err := e.client(via).GetClusterMembers()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, m := range members {
		out[m.ServerName] = m.Status
	}
	return out
}

// TestRollingMaintenance: `apply '*' incus.maintenance --batch 1` with
// `statectl lab restart` as the command restarts every member in turn
// while a client reads the cluster through the members not in maintenance
// (status Online as last seen): no read fails, every member ends Online.
func TestRollingMaintenance(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	reloadLab(t, e)
	e.seed()
	// sleep 2: a drain, so a client that follows member status has moved
	// off the evacuated member before its daemon stops (without it, 2 of
	// 247 reads failed under load: the read was already in flight).
	maintPillar(t, e, "sleep 2 && statectl lab restart {{ grains['id'] }} --dir "+e.lab.Dir)

	names := []string{"node1", "node2", "node3"}
	clients := map[string]func(context.Context) (map[string]string, error){}
	for _, n := range names {
		c := e.client(n)
		clients[n] = func(ctx context.Context) (map[string]string, error) {
			// The client has no per-request context: a read that
			// hangs past ctx counts as failed (and is left behind).
			type answer struct {
				members []api.ClusterMember
				err     error
			}
			ch := make(chan answer, 1)
			go func() {
				members, err := c.GetClusterMembers()
				ch <- answer{members, err}
			}()
			select {
			case <-ctx.Done():
				return nil, fmt.Errorf("no answer: %w", ctx.Err())
			case a := <-ch:
				if a.err != nil {
					return nil, a.err
				}
				out := map[string]string{}
				for _, m := range a.members {
					out[m.ServerName] = m.Status
				}
				return out, nil
			}
		}
	}
	var (
		mu            sync.Mutex
		reads, failed int
		failures      []string
		downAt        = map[string]time.Time{}
		inMaint       = map[string]time.Duration{}
		stop          = make(chan struct{})
		done          = make(chan struct{})
		status        = map[string]string{"node1": "Online", "node2": "Online", "node3": "Online"}
	)
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			// The next member, in turn, that the client last saw Online.
			var via string
			for k := range names {
				n := names[(i+k)%len(names)]
				if status[n] == "Online" {
					via = n
					break
				}
			}
			if via == "" {
				via = names[i%len(names)]
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			got, err := clients[via](ctx)
			cancel()
			mu.Lock()
			reads++
			if err != nil {
				failed++
				failures = append(failures, fmt.Sprintf("via %s: %v", via, err))
			} else {
				now := time.Now()
				for n, st := range got {
					if st != "Online" && downAt[n].IsZero() {
						downAt[n] = now
					}
					if st == "Online" && !downAt[n].IsZero() {
						inMaint[n] += now.Sub(downAt[n])
						downAt[n] = time.Time{}
					}
				}
				status = got
			}
			mu.Unlock()
		}
	}()
	start := time.Now()
	r := e.run("apply", "*", "incus.maintenance", "--batch", "1", "--batch-gate-timeout", "2m")
	total := time.Since(start)
	time.Sleep(time.Second) // the client sees the last restore
	close(stop)
	<-done
	if r.code != report.ExitOK {
		t.Fatalf("rolling maintenance: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	for _, n := range names {
		if !strings.Contains(r.stdout, "Cluster member "+n+" restored") {
			t.Errorf("%s was not restored:\n%s", n, r.stdout)
		}
	}
	if got := e.memberStatus(t, "node1"); fmt.Sprint(got) != "map[node1:Online node2:Online node3:Online]" {
		t.Errorf("members after the rolling run: %v", got)
	}
	mu.Lock()
	defer mu.Unlock()
	t.Logf("rolling maintenance of 3 members: %s in all (%s per member); gates:\n%s", total.Round(time.Millisecond),
		(total / 3).Round(time.Millisecond), r.stderr)
	for _, n := range names {
		t.Logf("%s: not Online for %s as the client saw it", n, inMaint[n].Round(time.Millisecond))
	}
	t.Logf("client reads: %d, failed: %d", reads, failed)
	t.Logf("state durations:\n%s", stateDurations(r.stdout))
	if failed > 0 {
		t.Errorf("%d of %d reads through members not in maintenance failed: %s", failed, reads, strings.Join(failures, "; "))
	}
	for _, n := range names {
		if inMaint[n] == 0 {
			t.Errorf("the client never saw %s leave Online: was it evacuated?", n)
		}
	}
}

// TestRollingBatchFails: a batch whose command fails (exit 1 on node2)
// stops the run: node3 is never touched and is named; node2 stays
// evacuated for the operator (its restore requires the command).
func TestRollingBatchFails(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	e.seed()
	maintPillar(t, e, "test {{ grains['id'] }} != node2")
	r := e.run("apply", "*", "incus.maintenance", "--batch", "1")
	t.Logf("failing rolling run (exit %d):\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	if r.code != report.ExitFailed {
		t.Fatalf("exit %d, want %d", r.code, report.ExitFailed)
	}
	if !strings.Contains(r.stderr, "batch run stopped; not touched: node3") {
		t.Errorf("stderr does not name the untouched target:\n%s", r.stderr)
	}
	if !strings.Contains(r.stderr, "batch 2/3: health gate passed") {
		t.Errorf("no health gate before the second batch:\n%s", r.stderr)
	}
	if strings.Contains(r.stdout, "incus-maintenance-evacuate-node3") {
		t.Errorf("node3 was run:\n%s", r.stdout)
	}
	got := e.memberStatus(t, "node1")
	if got["node1"] != "Online" || got["node2"] != "Evacuated" || got["node3"] != "Online" {
		t.Errorf("members after the failed run: %v (want node1 restored, node2 evacuated, node3 untouched)", got)
	}
}

// stateDurations lists "ID: duration" from a human apply output.
func stateDurations(out string) string {
	var b strings.Builder
	id := ""
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		if v, ok := strings.CutPrefix(line, "ID: "); ok {
			id = v
		}
		if v, ok := strings.CutPrefix(line, "Duration: "); ok && id != "" {
			fmt.Fprintf(&b, "  %s: %s\n", id, v)
		}
	}
	return b.String()
}
