package incus_test

import (
	"context"
	"testing"
	"time"

	"github.com/statectl/statectl/runner/lab/labtest"
	"github.com/statectl/statectl/runner/roster"
)

// Through haproxy (TCP, round-robin per connection) each request may land
// on another member. settings_present used to GET /1.0 on one member and
// PUT on another, failing with "Changing cluster.https_address is
// currently not supported" or a stale ETag; apply now pins both to the
// member that answered the plan's read.
func TestSettingsThroughHAProxy(t *testing.T) {
	l := labtest.Start(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := l.Cluster(ctx); err != nil {
		t.Fatalf("failed to cluster the lab: %v", err)
	}
	var backends []string
	for _, m := range l.Members {
		backends = append(backends, m.Address)
	}
	lb := labtest.StartHAProxy(t, backends, labtest.HAProxyOptions{})
	r := &roster.Roster{File: "/test/roster.yaml", Entries: map[string]*roster.Entry{
		"lb": {Name: "lb", URL: "https://" + lb, ClientCert: l.ClientCert, ClientKey: l.ClientKey, ServerCert: l.ClusterCert},
	}}
	e := &env{t: t, lab: l, roster: r}
	e.mod = e.newModule()

	// Several passes: with three members round-robin, a single pass could
	// land GET and PUT on one member by chance.
	for _, v := range []string{"7", "8", "9", "11"} {
		e.mustApply(e.newModule(), mkcall("lb", "settings_present", "lb-settings", map[string]any{
			"config": map[string]any{"images.remote_cache_expiry": v},
		}))
	}
	e.mustConverged(e.newModule(), mkcall("lb", "settings_present", "lb-settings", map[string]any{
		"config": map[string]any{"images.remote_cache_expiry": "11"},
	}))
	if srv, _, err := e.client("node2").GetServer(); err != nil || srv.Config["images.remote_cache_expiry"] != "11" {
		t.Fatalf("node2 does not have the value written through haproxy: %v", err)
	}
}
