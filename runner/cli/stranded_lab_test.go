package cli

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/statectl/statectl/runner/lab/labtest"
	"github.com/statectl/statectl/runner/report"
)

// TestRemovedWhileOffline: a member removed (force) while it was frozen
// still calls itself clustered when it comes back, and Incus cannot join it
// as it is. The apply says the server must be wiped, naming `statectl lab
// reset`; after the reset the same apply joins it again.
func TestRemovedWhileOffline(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	e.seed()
	thaw := labtest.Freeze(t, e.lab, "node3")
	if err := e.client("node1").DeleteClusterMember("node3", true); err != nil {
		t.Fatal(err)
	}
	thaw()
	r := e.run("apply", "node3", "incus.cluster")
	t.Logf("apply after the removal (exit %d):\n%s", r.code, r.stdout)
	if r.code != report.ExitFailed || !strings.Contains(r.stdout, "statectl lab reset node3") {
		t.Fatalf("apply on a member removed while offline (exit %d) does not give the way out:\n%s", r.code, r.stdout)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := e.lab.Reset(ctx, "node3"); err != nil {
		t.Fatal(err)
	}
	r = e.mustRun(report.ExitOK, "apply", "node3", "incus.cluster")
	if !strings.Contains(r.stdout, "Cluster member node3 joined") {
		t.Fatalf("apply after the reset:\n%s", r.stdout)
	}
	if got := e.memberNames("node1"); got != "node1,node2,node3" {
		t.Fatalf("the cluster has %s after the re-join", got)
	}
}
