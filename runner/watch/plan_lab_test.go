package watch_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSavedPlan: a plan applies exactly when nothing changed since; a
// cluster change or an input change makes it stale and nothing is applied.
func TestSavedPlan(t *testing.T) {
	e := newEnv(t, 1)
	e.formCluster("node1")
	plan := filepath.Join(e.dir, "plan.json")

	e.setConfig("node1", driftKey, "9")
	r := e.must(3, "plan", "node1", "-o", plan, "--detailed-exitcode")
	if !strings.Contains(r.stdout, "Would change: 1") {
		t.Fatalf("plan output:\n%s", r.stdout)
	}
	data, err := os.ReadFile(plan)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"etag"`) || !strings.Contains(string(data), `"states": "sha256:`) {
		t.Fatalf("plan file lacks ETags or input digests:\n%s", data)
	}

	// Out-of-band change after planning: refused, nothing applied.
	e.setConfig("node1", driftKey, "7")
	r = e.must(1, "apply", "--plan", plan)
	if !strings.Contains(r.stderr, "statectl: error: plan is stale; plan again: node1: incus-server-settings changed since it was planned") || r.stdout != "" {
		t.Fatalf("stale plan: stdout %q stderr %q", r.stdout, r.stderr)
	}
	if v := e.config("node1", driftKey); v != "7" {
		t.Fatalf("a stale plan changed %s to %q", driftKey, v)
	}

	// A fresh plan applies; its inputs are then checked too.
	e.must(3, "plan", "node1", "-o", plan, "--detailed-exitcode")
	r = e.must(1, "apply", "--plan", plan, "--pillar-override", `{"incus": {}}`)
	if !strings.Contains(r.stderr, "pillar override changed since the plan was made") {
		t.Fatalf("input change: %s", r.stderr)
	}
	r = e.must(0, "apply", "--plan", plan)
	if !strings.Contains(r.stdout, "Succeeded: 3 (changed=1)") && !strings.Contains(r.stdout, "changed=1") {
		t.Fatalf("apply --plan output:\n%s", r.stdout)
	}
	if v := e.config("node1", driftKey); v != "0" {
		t.Fatalf("%s = %q after apply --plan", driftKey, v)
	}
	// Applied once: the same plan is stale now (the ETag moved).
	e.must(1, "apply", "--plan", plan)
}
