package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/statectl/statectl/runner/lab"
	"github.com/statectl/statectl/runner/lab/labtest"
	"github.com/statectl/statectl/runner/report"
)

// fleetLab writes one roster and one pillar for two 3-member labs, the
// first's members named a1..a3 (cluster a), the second's b1..b3 (cluster
// b), and returns the common flags.
func fleetLab(t *testing.T, la, lb *lab.Lab) []string {
	t.Helper()
	dir := t.TempDir()
	pillar := filepath.Join(dir, "pillar")
	if err := os.MkdirAll(pillar, 0o755); err != nil {
		t.Fatal(err)
	}
	var roster bytes.Buffer
	entry := regexp.MustCompile(`(?m)^node(\d):`)
	member := regexp.MustCompile(`\bnode(\d)\b`)
	for _, x := range []struct {
		p string
		l *lab.Lab
	}{{"a", la}, {"b", lb}} {
		r, err := os.ReadFile(x.l.RosterPath())
		if err != nil {
			t.Fatal(err)
		}
		r = entry.ReplaceAll(r, []byte(x.p+"$1:\n  cluster: "+x.p))
		roster.Write(r)
		roster.WriteString("\n")
		p, err := os.ReadFile(filepath.Join(x.l.PillarDir(), "incus.sls"))
		if err != nil {
			t.Fatal(err)
		}
		p = member.ReplaceAll(p, []byte(x.p+"$1"))
		p = bytes.ReplaceAll(p, []byte("statectl-lab"), []byte("fleet-"+x.p))
		if err := os.WriteFile(filepath.Join(pillar, x.p+".sls"), p, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	top := "base:\n  'a*': [a]\n  'b*': [b]\n"
	if err := os.WriteFile(filepath.Join(pillar, "top.sls"), []byte(top), 0o644); err != nil {
		t.Fatal(err)
	}
	rosterPath := filepath.Join(dir, "roster.yaml")
	if err := os.WriteFile(rosterPath, roster.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	states, err := filepath.Abs("../../states")
	if err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(dir, "statectl.yaml")
	if err := os.WriteFile(config, []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return []string{"--states", states, "--pillar", pillar, "--roster", rosterPath,
		"--config", config, "--no-color", "--lock-dir", filepath.Join(dir, "locks")}
}

// targetOrder is the order of the target headers in human output.
var targetOrder = regexp.MustCompile(`(?m)^([ab]\d):$`)

// TestFleetParallel: one `apply '*'` forms two clusters from scratch,
// sequentially (--parallel 1) and at once (--parallel 2); each cluster has
// its own members, and the output lists the targets in the sequential
// order (a1..a3, then b1..b3). It logs the wall times (docs/benchmarks.md).
func TestFleetParallel(t *testing.T) {
	for _, parallel := range []string{"1", "2"} {
		t.Run("parallel"+parallel, func(t *testing.T) { fleetApply(t, parallel) })
	}
}

func fleetApply(t *testing.T, parallel string) {
	la, lb := labtest.Start(t, 3), labtest.Start(t, 3)
	flags := fleetLab(t, la, lb)
	var stdout, stderr bytes.Buffer
	start := time.Now()
	code := Main(append([]string{"apply", "*", "--parallel", parallel}, flags...), &stdout, &stderr)
	t.Logf("two 3-member clusters formed with --parallel %s in %s", parallel, time.Since(start).Round(time.Millisecond))
	if code != report.ExitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	var order []string
	for _, m := range targetOrder.FindAllStringSubmatch(stdout.String(), -1) {
		order = append(order, m[1])
	}
	if got := strings.Join(order, ","); got != "a1,a2,a3,b1,b2,b3" {
		t.Errorf("target order %s, want a1,a2,a3,b1,b2,b3\n%s", got, stdout.String())
	}
	for _, x := range []struct {
		p string
		l *lab.Lab
	}{{"a", la}, {"b", lb}} {
		members, err := labtest.Client(t, x.l, "node1").GetClusterMembers()
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, m := range members {
			if m.Status != "Online" {
				t.Errorf("%s: member %s is %s", x.p, m.ServerName, m.Status)
			}
			names = append(names, m.ServerName)
		}
		if got := strings.Join(names, ","); got != x.p+"1,"+x.p+"2,"+x.p+"3" {
			t.Errorf("cluster %s members = %s", x.p, got)
		}
	}
}
