package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/lxc/incus/v6/shared/api"

	"github.com/statectl/statectl/runner/clusterlock"
	"github.com/statectl/statectl/runner/report"
)

// TestApplyClusterLock: apply takes the cluster lock only with
// --cluster-lock. Held by a live run elsewhere, that apply waits
// --cluster-lock-wait, then fails naming the holder and writes nothing;
// once the lock is gone it corrects and leaves no lock. Without the flag
// apply ignores the lock, as before.
func TestApplyClusterLock(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	e.seed()
	const key = "images.auto_update_interval" // the lab pillar wants 0
	c := e.client("node1")
	holder := clusterlock.Holder{Host: "admin-x", PID: 4242, Function: "state.watch", Target: "node3"}
	if err := c.CreateProfile(clusterlock.ProfileOf(holder, "beef", time.Hour)); err != nil {
		t.Fatal(err)
	}
	e.setServerConfig("node2", key, "9")

	r := e.mustRun(report.ExitError, "apply", "node2", "--cluster-lock", "--cluster-lock-wait", "300ms")
	if !strings.Contains(r.stderr, "the cluster lock is held by state.watch for node3 (PID 4242 on admin-x)") ||
		!strings.Contains(r.stderr, "incus profile delete statectl-lock") {
		t.Fatalf("stderr does not name the holder and the way out:\n%s", r.stderr)
	}
	if v := e.serverConfig("node2")[key]; v != "9" {
		t.Fatalf("written while another run held the lock: %s = %q", key, v)
	}

	// Without the flag, apply does not look at the lock.
	e.setServerConfig("node2", key, "8")
	e.mustRun(report.ExitOK, "apply", "node2")
	if v := e.serverConfig("node2")[key]; v != "0" {
		t.Fatalf("apply without --cluster-lock: %s = %q", key, v)
	}

	if err := c.DeleteProfile(clusterlock.Profile); err != nil {
		t.Fatal(err)
	}
	e.setServerConfig("node2", key, "7")
	r = e.mustRun(report.ExitOK, "apply", "node2", "--cluster-lock")
	if v := e.serverConfig("node2")[key]; v != "0" || !changedRe.MatchString(r.stdout) {
		t.Fatalf("apply --cluster-lock: %s = %q\n%s", key, v, r.stdout)
	}
	if _, _, err := c.GetProfile(clusterlock.Profile); !api.StatusErrorCheck(err, 404) {
		t.Errorf("cluster lock left behind: %v", err)
	}
}
