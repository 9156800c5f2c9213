package cli

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/statectl/statectl/runner/report"
)

// TestFormationPredicted: on servers that are not clustered yet, --test
// over every target predicts the whole formation (the bootstrap, then the
// joins "after node3 bootstraps") instead of failing the joins, and the
// targets run with the bootstrap member first whatever their order (node3
// bootstraps here, the roster lists it last). The apply then forms the
// cluster in one command.
func TestFormationPredicted(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	m3, _ := e.lab.Member("node3")
	override := fmt.Sprintf(`{"incus": {"cluster": {"bootstrap": "node3", "address": %q}}}`, m3.Address)

	r := e.mustRun(report.ExitChanged, "apply", "node*", "incus.cluster", "--test", "--detailed-exitcode",
		"--pillar-override", override)
	if r.writes != 0 {
		t.Fatalf("--test wrote %d times", r.writes)
	}
	first := strings.Index(r.stdout, "Summary for ")
	if first < 0 || !strings.HasPrefix(r.stdout[first:], "Summary for node3") {
		t.Fatalf("node3 (the bootstrap member) did not run first:\n%s", r.stdout)
	}
	for _, n := range []string{"node1", "node2"} {
		if !strings.Contains(r.stdout, "Cluster member "+n+" would join at") || !strings.Contains(r.stdout, "after node3 bootstraps the cluster") {
			t.Fatalf("no predicted join of %s:\n%s", n, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "Result: False") || !strings.Contains(r.stdout, "Failed:    0") {
		t.Fatalf("--test predicts a failure:\n%s", r.stdout)
	}

	e.mustRun(report.ExitOK, "apply", "node*", "incus.cluster", "--pillar-override", override)
	if got := e.memberNames("node1"); got != "node1,node2,node3" {
		t.Fatalf("members after one apply: %s", got)
	}
}

// memberNames lists the members of via's cluster, sorted, comma-separated.
func (e *e2e) memberNames(via string) string {
	e.t.Helper()
	members, err := e.client(via).GetClusterMembers()
	if err != nil {
		e.t.Fatal(err)
	}
	var names []string
	for _, m := range members {
		names = append(names, m.ServerName)
	}
	sort.Strings(names)
	return strings.Join(names, ",")
}
