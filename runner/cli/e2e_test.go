package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	incusclient "github.com/lxc/incus/v6/client"
	"github.com/lxc/incus/v6/shared/api"

	"github.com/statectl/statectl/runner/incusconn"
	"github.com/statectl/statectl/runner/lab"
	"github.com/statectl/statectl/runner/lab/labtest"
	"github.com/statectl/statectl/runner/report"
)

// The end-to-end tests run statectl in process (MainCounted) against a
// real 3-member incusd lab with the shipped states/ and the lab's pillar,
// counting every Incus request the runs send.

// e2e is a lab and the statectl flags that point at it.
type e2e struct {
	t       *testing.T
	lab     *lab.Lab
	common  []string
	counter incusconn.Counter
}

// result is one statectl run as a user sees it, with the requests it sent.
type result struct {
	code           int
	stdout, stderr string
	reads, writes  int64
}

func newE2E(t *testing.T) *e2e {
	t.Helper()
	l := labtest.Start(t, 3)
	states, err := filepath.Abs("../../states")
	if err != nil {
		t.Fatal(err)
	}
	// No statectl.yaml of the working directory may change the flags.
	config := filepath.Join(t.TempDir(), "statectl.yaml")
	if err := os.WriteFile(config, []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return &e2e{t: t, lab: l, common: []string{
		"--states", states, "--pillar", l.PillarDir(), "--roster", l.RosterPath(),
		"--config", config, "--no-color",
	}}
}

// run runs `statectl args... <lab flags>`.
func (e *e2e) run(args ...string) result {
	e.t.Helper()
	e.counter.Reset()
	var stdout, stderr bytes.Buffer
	code := MainCounted(append(append([]string{}, args...), e.common...), &stdout, &stderr, &e.counter)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String(), reads: e.counter.Reads(), writes: e.counter.Writes()}
}

// mustRun runs statectl and fails unless it exits with want.
func (e *e2e) mustRun(want int, args ...string) result {
	e.t.Helper()
	r := e.run(args...)
	if r.code != want {
		e.t.Fatalf("statectl %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, want, r.stdout, r.stderr)
	}
	return r
}

// client is a direct, uncounted connection to a member, for checks and
// out-of-band edits.
func (e *e2e) client(name string) incusclient.InstanceServer {
	e.t.Helper()
	return labtest.Client(e.t, e.lab, name)
}

// serverConfig reads a member's view of the server config.
func (e *e2e) serverConfig(name string) map[string]string {
	e.t.Helper()
	s, _, err := e.client(name).UseTarget(name).GetServer()
	if err != nil {
		e.t.Fatal(err)
	}
	return s.Config
}

// setServerConfig changes one key behind statectl's back.
func (e *e2e) setServerConfig(name, key, value string) {
	e.t.Helper()
	c := e.client(name).UseTarget(name)
	s, etag, err := c.GetServer()
	if err != nil {
		e.t.Fatal(err)
	}
	put := s.Writable()
	put.Config[key] = value
	if err := c.UpdateServer(put, etag); err != nil {
		e.t.Fatal(err)
	}
}

// seed runs the seed's flow: apply node1, node2, node3 incus.cluster in
// turn (bootstrap, then two joins), then the highstate on every member.
func (e *e2e) seed() {
	e.t.Helper()
	for _, n := range []string{"node1", "node2", "node3"} {
		r := e.mustRun(report.ExitOK, "apply", n, "incus.cluster")
		if r.writes == 0 || !changedRe.MatchString(r.stdout) {
			e.t.Fatalf("apply %s incus.cluster changed nothing (%d writes):\n%s", n, r.writes, r.stdout)
		}
	}
	e.mustRun(report.ExitOK, "apply", "node*")
}

// changedRe matches a human summary where every state succeeded and some
// changed.
var changedRe = regexp.MustCompile(`Succeeded: \d+ \(changed=[1-9]\d*\)\nFailed:\s+0\n`)

// jsonRun decodes `--out json`: target -> tag -> state return.
func jsonRun(t *testing.T, out string) map[string]map[string]map[string]any {
	t.Helper()
	var doc map[string]map[string]map[string]any
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("--out json is not {target: {tag: ret}}: %v\n%s", err, out)
	}
	return doc
}

// TestE2ESeedFlow forms the cluster with the shipped states as the seed
// does, checks it on the daemons, then checks a re-apply is a no-op (exit
// 0 with --detailed-exitcode, zero changes, zero write requests) and that
// an out-of-band change is reported by --test (exit 3) and left alone.
func TestE2ESeedFlow(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	e.seed()

	members, err := e.client("node1").GetClusterMembers()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]api.ClusterMember{}
	for _, m := range members {
		got[m.ServerName] = m
	}
	for _, n := range []string{"node1", "node2", "node3"} {
		m, _ := e.lab.Member(n)
		if got[n].Status != "Online" || got[n].URL != "https://"+m.Address || got[n].Description != "statectl lab member "+n {
			t.Fatalf("member %s after the seed flow: %+v", n, got[n])
		}
		// The lab pillar's server setting (Incus' default is 6).
		if v := e.serverConfig(n)["images.auto_update_interval"]; v != "0" {
			t.Fatalf("%s: images.auto_update_interval = %q after highstate, want 0", n, v)
		}
	}

	t.Run("re-apply is a no-op", func(t *testing.T) {
		r := e.mustRun(report.ExitOK, "apply", "node*", "--detailed-exitcode", "--out", "json")
		if r.writes != 0 {
			t.Fatalf("no-op apply sent %d write requests (%s)", r.writes, e.counter.String())
		}
		if r.reads == 0 {
			t.Fatalf("no-op apply sent no request at all: did it plan against the cluster?")
		}
		doc := jsonRun(t, r.stdout)
		if len(doc) != 3 {
			t.Fatalf("targets %v, want node1..3", keys(doc))
		}
		for target, states := range doc {
			for tag, ret := range states {
				if ret["result"] != true || len(ret["changes"].(map[string]any)) != 0 {
					t.Errorf("%s %s: result %v changes %v", target, tag, ret["result"], ret["changes"])
				}
			}
		}
		// A regression guard, not a timing: per target one pooled
		// connection (its GET /1.0 serves grains and the plans) and the
		// membership read.
		if r.reads > 6 {
			t.Errorf("no-op apply of 3 targets sent %d reads (%s), want at most 6", r.reads, e.counter.String())
		}
		t.Logf("no-op apply of 3 targets: %s", e.counter.String())
		// The human report says the same.
		r = e.mustRun(report.ExitOK, "apply", "node2", "--detailed-exitcode", "--state-output", "terse")
		if !strings.Contains(r.stdout, "Succeeded: 2\nFailed:    0\n") || strings.Contains(r.stdout, "changed=") || r.writes != 0 {
			t.Fatalf("human re-apply of node2 (%d writes):\n%s", r.writes, r.stdout)
		}
	})

	t.Run("drift shown by --test and not written", func(t *testing.T) {
		e.setServerConfig("node1", "images.auto_update_interval", "12")
		r := e.mustRun(report.ExitChanged, "apply", "node2", "--test", "--detailed-exitcode")
		if r.writes != 0 {
			t.Fatalf("--test sent %d write requests", r.writes)
		}
		// The diff names the key, the live value and the pillar's value.
		want := regexp.MustCompile(`(?s)images\.auto_update_interval.*new:\s+0.*old:\s+12`)
		if !want.MatchString(r.stdout) {
			t.Fatalf("--test output does not show the drift:\n%s", r.stdout)
		}
		if !strings.Contains(r.stdout, "Result: None") {
			t.Fatalf("--test output has no pending (None) result:\n%s", r.stdout)
		}
		if v := e.serverConfig("node1")["images.auto_update_interval"]; v != "12" {
			t.Fatalf("--test changed the drifted key to %q", v)
		}
		// A real apply of every member corrects the cluster-wide key once
		// (node1, first) and the members after it see the corrected value:
		// what a run read before its own write is not trusted after it.
		r = e.mustRun(report.ExitChanged, "apply", "node*", "--detailed-exitcode", "--out", "json")
		if r.writes == 0 {
			t.Fatalf("correcting apply sent no write")
		}
		for target, states := range jsonRun(t, r.stdout) {
			for tag, ret := range states {
				changed := len(ret["changes"].(map[string]any)) > 0
				want := target == "node1" && strings.Contains(tag, "settings_present")
				if ret["result"] != true || changed != want {
					t.Errorf("%s %s: result %v changes %v", target, tag, ret["result"], ret["changes"])
				}
			}
		}
		if v := e.serverConfig("node3")["images.auto_update_interval"]; v != "0" {
			t.Fatalf("after the apply images.auto_update_interval = %q", v)
		}
		e.mustRun(report.ExitOK, "apply", "node*", "--test", "--detailed-exitcode")
	})

	t.Run("json shape", func(t *testing.T) {
		// Not 6: Incus drops a key set to its default.
		e.setServerConfig("node1", "images.auto_update_interval", "7")
		defer e.setServerConfig("node1", "images.auto_update_interval", "0")
		r := e.mustRun(report.ExitChanged, "apply", "node3", "--test", "--detailed-exitcode", "--out", "json")
		doc := jsonRun(t, r.stdout)
		states := doc["node3"]
		tags := keys(states)
		wantTags := []string{
			"incus_|-incus-cluster-member-node3_|-node3_|-cluster_member_present",
			"incus_|-incus-server-settings_|-incus-server-settings_|-settings_present",
		}
		if len(doc) != 1 || strings.Join(tags, " ") != strings.Join(wantTags, " ") {
			t.Fatalf("tags %v of targets %v, want %v", tags, keys(doc), wantTags)
		}
		fields := []string{"__id__", "__run_num__", "__sls__", "changes", "comment", "duration", "name", "result", "start_time"}
		for _, tag := range tags {
			if got := keys(states[tag]); strings.Join(got, " ") != strings.Join(fields, " ") {
				t.Fatalf("%s: fields %v, want %v", tag, got, fields)
			}
		}
		member, settings := states[wantTags[0]], states[wantTags[1]]
		if member["__run_num__"] != 0.0 || member["result"] != true || member["__sls__"] != "incus.cluster" {
			t.Fatalf("member state: %v", member)
		}
		change, _ := settings["changes"].(map[string]any)["images.auto_update_interval"].(map[string]any)
		if settings["__run_num__"] != 1.0 || settings["result"] != nil || settings["__sls__"] != "incus.settings" ||
			change["old"] != "7" || change["new"] != "0" {
			t.Fatalf("settings state: %v", settings)
		}
	})

	t.Run("secrets stay out of the output", func(t *testing.T) {
		const password, lokiPassword = "Cl0ster-pw-4271", "L0ki-secret-8815"
		override := `{"incus": {"cluster_members": {"node2": {"cluster_password": "` + password + `"}},` +
			` "server_settings": {"config": {"loki.auth.password": "` + lokiPassword + `"}}}}`
		for _, out := range []string{"human", "json"} {
			r := e.mustRun(report.ExitChanged, "apply", "node2", "--test", "--detailed-exitcode", "--out", out, "--pillar-override", override)
			if r.writes != 0 {
				t.Fatalf("--test sent %d writes", r.writes)
			}
			for _, secret := range []string{password, lokiPassword} {
				if strings.Contains(r.stdout, secret) || strings.Contains(r.stderr, secret) {
					t.Fatalf("--out %s shows secret %q:\nstdout:\n%s\nstderr:\n%s", out, secret, r.stdout, r.stderr)
				}
			}
			if !strings.Contains(r.stdout, "loki.auth.password") || !strings.Contains(r.stdout, "******") {
				t.Fatalf("--out %s does not show the masked secret setting:\n%s", out, r.stdout)
			}
		}
		// The state really received the secrets: `render --show-secrets`
		// is not a thing, but `render` of the same pillar masks the
		// password argument and still lists it.
		r := e.mustRun(report.ExitOK, "render", "node2", "--pillar-override", override)
		if strings.Contains(r.stdout, password) || !strings.Contains(r.stdout, "cluster_password") {
			t.Fatalf("render of node2 with a cluster_password:\n%s", r.stdout)
		}
		// A real apply of the secret setting: whatever the daemon
		// answers, neither the value nor an error quoting it is shown.
		r = e.run("apply", "node2", "--pillar-override", override)
		for _, secret := range []string{password, lokiPassword} {
			if strings.Contains(r.stdout, secret) || strings.Contains(r.stderr, secret) {
				t.Fatalf("apply shows secret %q (exit %d):\n%s\n%s", secret, r.code, r.stdout, r.stderr)
			}
		}
		if r.code != report.ExitOK || r.writes == 0 {
			t.Fatalf("apply of the secret setting: exit %d, %d writes\n%s%s", r.code, r.writes, r.stdout, r.stderr)
		}
		if v := e.serverConfig("node2")["loki.auth.password"]; v != lokiPassword {
			t.Fatalf("loki.auth.password on the cluster is %q after apply", v)
		}
	})
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
