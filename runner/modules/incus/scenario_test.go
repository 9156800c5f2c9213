package incus_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	incusclient "github.com/lxc/incus/v6/client"
	"github.com/lxc/incus/v6/shared/api"

	"github.com/statectl/statectl/runner/cli"
	"github.com/statectl/statectl/runner/incusconn"
	"github.com/statectl/statectl/runner/lab/labtest"
)

// The scenario tests drive statectl in process (cli.MainCounted) with the
// shipped states against a real lab, break the cluster out of band the way
// an operator or a failure would, and check three things of every run:
// test mode sends no write and predicts exactly the changes apply makes,
// a re-run after apply converges with zero writes, and no join token
// ("eyJ", the base64 of `{"`) shows in any output.

// scenarioPillar is the lab cluster with every member field managed.
const scenarioPillar = `incus:
  cluster:
    bootstrap: node1
    address: {{ADDR1}}
  cluster_members:
    node1:
      address: {{ADDR1}}
      description: member one
    node2:
      address: {{ADDR2}}
      description: member two
      groups: [default, gpu]
      roles: [event-hub]
      failure_domain: rack2
      config:
        user.rack: r2
        scheduler.instance: group
    node3:
      address: {{ADDR3}}
      description: member three
      groups: [default, storage]
      failure_domain: rack3
      config:
        user.rack: r3
{{ABSENT3}}
  server_settings:
    config:
      images.auto_update_interval: "0"
      user.scenario: "yes"
`

// cliEnv runs statectl against a lab with a pillar of its own.
type cliEnv struct {
	*env
	pillar string
	common []string
}

func newCLIEnv(t *testing.T, n int) *cliEnv {
	e := newEnv(t, n)
	dir := t.TempDir()
	pillar := filepath.Join(dir, "pillar")
	if err := os.MkdirAll(pillar, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(pillar, "top.sls"), []byte("base:\n  '*':\n    - incus\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(dir, "statectl.yaml")
	if err := os.WriteFile(config, []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := &cliEnv{env: e, pillar: pillar, common: []string{
		"--states", filepath.Join(repo, "states"), "--pillar", pillar, "--roster", e.lab.RosterPath(),
		"--config", config, "--no-color", "--lock-dir", filepath.Join(dir, "locks"),
	}}
	c.writePillar(false, false)
	return c
}

// writePillar writes scenarioPillar, with node3 marked absent (and
// forced) when asked.
func (c *cliEnv) writePillar(absent3, force bool) {
	c.t.Helper()
	extra := ""
	if absent3 {
		extra = "      absent: true\n"
		if force {
			extra += "      force: true\n"
		}
	}
	r := strings.NewReplacer("{{ADDR1}}", c.addr("node1"), "{{ADDR2}}", c.addr("node2"), "{{ADDR3}}", c.addr("node3"), "{{ABSENT3}}\n", extra)
	if err := os.WriteFile(filepath.Join(c.pillar, "incus.sls"), []byte(r.Replace(scenarioPillar)), 0o644); err != nil {
		c.t.Fatal(err)
	}
}

// cliRun is one statectl run: exit code, output, write requests.
type cliRun struct {
	code           int
	stdout, stderr string
	writes         int64
}

// states decodes --out json: state key -> result fields.
func (r cliRun) states(t *testing.T, target string) map[string]map[string]any {
	t.Helper()
	var all map[string]map[string]map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &all); err != nil {
		t.Fatalf("decode output: %v\n%s", err, r.stdout)
	}
	return all[target]
}

func (c *cliEnv) statectl(args ...string) cliRun {
	c.t.Helper()
	var counter incusconn.Counter
	var stdout, stderr bytes.Buffer
	code := cli.MainCounted(append(append([]string{}, args...), c.common...), &stdout, &stderr, &counter)
	r := cliRun{code: code, stdout: stdout.String(), stderr: stderr.String(), writes: counter.Writes()}
	if strings.Contains(r.stdout+r.stderr, "eyJ") {
		c.t.Fatalf("statectl %s: a join token shows in the output:\n%s\n%s", strings.Join(args, " "), r.stdout, r.stderr)
	}
	return r
}

// testThenApply runs `apply TARGET --test` then `apply TARGET` and checks
// test mode wrote nothing and predicted exactly the changes apply made.
// It returns the apply run's states.
func (c *cliEnv) testThenApply(target string, wantCode int) map[string]map[string]any {
	c.t.Helper()
	tr := c.statectl("apply", target, "--test", "--out", "json")
	if tr.writes != 0 {
		c.t.Fatalf("apply %s --test sent %d write requests", target, tr.writes)
	}
	ar := c.statectl("apply", target, "--out", "json")
	if ar.code != wantCode {
		c.t.Fatalf("apply %s: exit %d, want %d\n%s\n%s", target, ar.code, wantCode, ar.stdout, ar.stderr)
	}
	test, applied := tr.states(c.t, target), ar.states(c.t, target)
	if len(test) != len(applied) {
		c.t.Fatalf("apply %s: test mode ran %d states, apply %d", target, len(test), len(applied))
	}
	for key, a := range applied {
		p := test[key]
		if !reflect.DeepEqual(p["changes"], a["changes"]) {
			c.t.Errorf("%s: test mode predicted %v, apply changed %v (%v)", key, p["changes"], a["changes"], a["comment"])
		}
		if failed := a["result"] == false; failed != (p["result"] == false) {
			c.t.Errorf("%s: test mode result %v, apply result %v: %v / %v", key, p["result"], a["result"], p["comment"], a["comment"])
		}
	}
	return applied
}

// converged checks a run over every member changes nothing and writes
// nothing.
func (c *cliEnv) converged() {
	c.t.Helper()
	r := c.statectl("apply", "node*", "--detailed-exitcode")
	if r.code != 0 || r.writes != 0 {
		c.t.Fatalf("re-run: exit %d, %d writes, want 0 and 0\n%s\n%s", r.code, r.writes, r.stdout, r.stderr)
	}
}

// waitStandalone waits until member name's daemon answers again as a
// standalone server (a removed member re-initialises in place).
func (c *cliEnv) waitStandalone(name string) {
	c.t.Helper()
	m, _ := c.lab.Member(name)
	deadline := time.Now().Add(15 * time.Second)
	for {
		s, err := incusclient.ConnectIncusUnix(m.Socket, &incusclient.ConnectionArgs{
			HTTPClient: &http.Client{Timeout: 2 * time.Second}, SkipGetEvents: true,
		})
		if err == nil {
			srv, _, err := s.GetServer()
			if err == nil && !srv.Environment.ServerClustered {
				return
			}
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%s did not come back standalone: %v", name, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// freeze SIGSTOPs a member's daemon until the returned function (also
// registered as cleanup) resumes it.
func (e *env) freeze(name string) func() {
	e.t.Helper()
	return labtest.Freeze(e.t, e.lab, name)
}

func TestScenarioOutOfBand(t *testing.T) {
	t.Parallel()
	c := newCLIEnv(t, 3)
	c1 := c.client("node1")
	if r := c.statectl("apply", "node*"); r.code != 0 {
		t.Fatalf("form the cluster: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	c.converged()

	// A member removed out of band re-joins; it comes back without its
	// non-default groups, and they are converged again. Settings planned
	// in test mode for the standalone server are predicted as they will be
	// after the join (the cluster's).
	if err := c1.DeleteClusterMember("node3", false); err != nil {
		t.Fatal(err)
	}
	c.waitStandalone("node3")
	c.testThenApply("node3", 0)
	n3 := members(t, c1)["node3"]
	if strings.Join(n3.Groups, ",") != "default,storage" || n3.FailureDomain != "rack3" || n3.Config["user.rack"] != "r3" {
		t.Fatalf("node3 after re-join: %+v", n3)
	}
	c.converged()

	// Every managed field of node2 changed out of band.
	mem, etag, err := c1.GetClusterMember("node2")
	if err != nil {
		t.Fatal(err)
	}
	if err := c1.CreateClusterGroup(api.ClusterGroupsPost{Name: "extra"}); err != nil {
		t.Fatal(err)
	}
	put := mem.Writable()
	put.Description, put.FailureDomain, put.Groups, put.Roles = "edited", "elsewhere", []string{"extra"}, []string{"database"}
	put.Config = map[string]string{"scheduler.instance": "manual", "user.rack": "zz", "user.unmanaged": "kept"}
	if err := c1.UpdateClusterMember("node2", put, etag); err != nil {
		t.Fatal(err)
	}
	got := c.testThenApply("node2", 0)
	if ch := got["incus_|-incus-cluster-member-node2_|-node2_|-cluster_member_present"]["changes"].(map[string]any); len(ch) != 5 {
		t.Fatalf("node2 drift: want 5 changed fields, got %v", ch)
	}
	n2 := members(t, c1)["node2"]
	if n2.Description != "member two" || n2.FailureDomain != "rack2" || strings.Join(n2.Groups, ",") != "default,gpu" ||
		!contains(n2.Roles, "event-hub") || n2.Config["scheduler.instance"] != "group" || n2.Config["user.unmanaged"] != "kept" {
		t.Fatalf("node2 not converged: %+v", n2)
	}
	c.converged()

	// node3 marked absent while node2 is frozen: node2 is still listed
	// Online, but removing node3 would leave 1 of 2 voters answering.
	// The refusal is the state's comment (in test mode and in apply), and
	// nothing is written; the settings of a member being removed are not
	// rendered.
	c.writePillar(true, false)
	thaw := c.freeze("node2")
	for _, test := range []bool{true, false} {
		args := []string{"apply", "node3", "--out", "json"}
		if test {
			args = append(args, "--test")
		}
		r := c.statectl(args...)
		st := r.states(t, "node3")["incus_|-incus-cluster-member-node3_|-node3_|-cluster_member_absent"]
		if r.code != 2 || r.writes != 0 || st["result"] != false || !strings.Contains(st["comment"].(string), "would lose quorum") ||
			!strings.Contains(st["comment"].(string), "node2: listed Online but did not answer") {
			t.Fatalf("absent with node2 frozen (test=%t): exit %d, %d writes, %v", test, r.code, r.writes, st)
		}
		if len(r.states(t, "node3")) != 1 {
			t.Fatalf("settings rendered for a member marked absent: %v", r.stdout)
		}
	}
	thaw()
	got = c.testThenApply("node3", 0)
	if _, ok := members(t, c1)["node3"]; ok {
		t.Fatalf("node3 still a member: %v", got)
	}
	c.converged()

	// Dropping the mark re-joins it.
	c.writePillar(false, false)
	c.waitStandalone("node3")
	c.testThenApply("node3", 0)
	c.converged()
}
