package incus_test

import (
	"context"
	"strings"
	"testing"

	incusclient "github.com/lxc/incus/v6/client"
	"github.com/lxc/incus/v6/shared/api"

	"github.com/statectl/statectl/runner/module"
)

const tokenSecret = "tok-s3cr3t-value"

func config(t *testing.T, s incusclient.InstanceServer) map[string]string {
	t.Helper()
	srv, _, err := s.GetServer()
	if err != nil {
		t.Fatal(err)
	}
	return srv.Config
}

func TestSettings(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 3)
	e.bootstrap("node2", "node3")
	m := e.mod
	c1, c3 := e.client("node1"), e.client("node3")
	addr1 := config(t, c1)["cluster.https_address"]

	// Cluster-wide keys, with the seed's core.trust_password (skipped) and
	// a secret-looking user key (masked).
	present := mkcall("node1", "settings_present", "incus-settings", map[string]any{"config": map[string]any{
		"cluster.max_voters":          "5",
		"cluster.offline_threshold":   120,
		"images.auto_update_interval": 0,
		"core.trust_password":         clusterSecret,
		"user.api_token":              tokenSecret,
	}})
	r := e.mustApply(m, present)
	if strings.Contains(r.text(), clusterSecret) || strings.Contains(r.text(), tokenSecret) {
		t.Fatalf("secret in output: %s", r.text())
	}
	if ch := r.out.Changes["user.api_token"].(map[string]any); ch["new"] != "******" {
		t.Fatalf("secret key not masked: %v", ch)
	}
	if _, ok := r.out.Changes["core.trust_password"]; ok || !strings.Contains(r.out.Comment, "core.trust_password ignored") {
		t.Fatalf("core.trust_password not skipped with a comment: %+v", r.out)
	}
	if got := config(t, c3); got["cluster.max_voters"] != "5" || got["cluster.offline_threshold"] != "120" || got["user.api_token"] != tokenSecret {
		t.Fatalf("cluster-wide keys not visible on node3: %v", got)
	}
	e.mustConverged(m, present)

	// A member-local key goes to the member named, through the target.
	metrics := strings.TrimSuffix(e.addr("node2"), ":8443") + ":19100"
	local := mkcall("node1", "settings_config", "metrics-node2", map[string]any{
		"key": "core.metrics_address", "value": metrics, "member": "node2",
	})
	e.mustApply(m, local)
	e.mustConverged(m, local)
	if got := config(t, c1.UseTarget("node2")); got["core.metrics_address"] != metrics || got["cluster.https_address"] != e.addr("node2") {
		t.Fatalf("node2 config: %v", got)
	}
	if got := config(t, c1); got["core.metrics_address"] != "" || got["cluster.https_address"] != addr1 {
		t.Fatalf("node1 config touched: %v", got)
	}

	// Values at their default are no change, however they are spelled.
	e.mustConverged(m, mkcall("node1", "settings_present", "defaults", map[string]any{"config": map[string]any{
		"cluster.max_standby": "2", "cluster.healing_threshold": 0, "images.auto_update_cached": "yes",
		"cluster.join_token_expiry": "3H", "cluster.images_minimal_replica": 3,
	}}))
	// Setting a key back to its default makes it vanish, and stays converged.
	back := mkcall("node1", "settings_config", "voters", map[string]any{"key": "cluster.max_voters", "value": 3})
	e.mustApply(m, back)
	if _, ok := config(t, c1)["cluster.max_voters"]; ok {
		t.Fatal("cluster.max_voters=3 still listed")
	}
	e.mustConverged(m, back)

	// A concurrent edit between plan and apply fails with 412, unwritten.
	cfgCall := mkcall("node1", "settings_config", "user-a", map[string]any{"key": "user.a", "value": "1"})
	p, err := m.Plan(context.Background(), cfgCall)
	if err != nil || len(p.Changes) == 0 {
		t.Fatalf("plan: %v %+v", err, p)
	}
	setKey(t, c3, "user.b", "by hand")
	out, err := m.Apply(context.Background(), cfgCall, p)
	if err != nil || !out.Failed || !strings.Contains(out.Comment, "changed concurrently") {
		t.Fatalf("concurrent edit: want failure, got %v %+v", err, out)
	}
	if got := config(t, c1); got["user.a"] != "" || got["user.b"] != "by hand" {
		t.Fatalf("concurrent edit overwritten: %v", got)
	}

	// settings_managed removes unlisted cluster-wide keys, never
	// member-local ones it does not list.
	managed := mkcall("node1", "settings_managed", "managed", map[string]any{"config": map[string]any{
		"cluster.offline_threshold": "120", "images.auto_update_interval": "0", "core.trust_password": clusterSecret,
	}})
	r = e.mustApply(m, managed)
	for _, k := range []string{"user.api_token", "user.b"} {
		if _, ok := r.out.Changes[k]; !ok {
			t.Errorf("managed: %s not removed: %v", k, r.out.Changes)
		}
	}
	got := config(t, c1)
	if got["cluster.https_address"] != addr1 || got["core.https_address"] == "" || got["user.b"] != "" {
		t.Fatalf("managed: %v", got)
	}
	if strings.Contains(r.text(), tokenSecret) {
		t.Fatalf("secret in output: %s", r.text())
	}
	e.mustConverged(m, managed)

	// settings_absent. The key is set out of band, so a new run (module)
	// sees it: within a run, a server read is reused until the run writes.
	setKey(t, c3, "user.gone", "x")
	m = e.newModule()
	absent := mkcall("node1", "settings_absent", "gone", map[string]any{"key": "user.gone"})
	e.mustApply(m, absent)
	e.mustConverged(m, absent)

	// cluster.https_address cannot change on a clustered member.
	moved := mkcall("node1", "settings_config", "move", map[string]any{"key": "cluster.https_address", "value": "127.0.0.250"})
	if r := e.plan(m, moved); r.planErr != nil || !r.plan.Fail || !strings.Contains(r.plan.Comment, "cannot change on a clustered member") {
		t.Fatalf("address change: %v %+v", r.planErr, r.plan)
	}

	// A new run over everything converged sends no write.
	m2 := e.newModule()
	before := e.counter.Writes()
	for _, c := range []*module.Call{managed, absent, local, back} {
		e.mustConverged(m2, c)
	}
	if n := e.counter.Writes() - before; n != 0 {
		t.Fatalf("converged run sent %d writes", n)
	}
}

func setKey(t *testing.T, s incusclient.InstanceServer, k, v string) {
	t.Helper()
	srv, etag, err := s.GetServer()
	if err != nil {
		t.Fatal(err)
	}
	srv.Config[k] = v
	if err := s.UpdateServer(api.ServerPut{Config: srv.Config}, etag); err != nil {
		t.Fatal(err)
	}
}
