package incus

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/lxc/incus/v6/shared/api"

	"github.com/statectl/statectl/runner/module"
	"github.com/statectl/statectl/runner/secret"
)

func TestIsSecretKey(t *testing.T) {
	for key, want := range map[string]bool{
		"loki.auth.password": true, "oidc.client.secret": true, "openfga.api.token": true,
		"network.ovn.client_key": true, "core.trust_password": true, "user.api_token": true,
		"cluster.join_token_expiry": false, "core.https_address": false, "cluster.max_voters": false,
		"user.keyboard": false, "images.auto_update_interval": false,
	} {
		if got := isSecretKey(key); got != want {
			t.Errorf("isSecretKey(%q) = %t, want %t", key, got, want)
		}
	}
}

func TestMasker(t *testing.T) {
	spec := clusterMemberPresent.spec
	mk := newMasker(spec, map[string]any{"cluster_password": "hunter22", "config": map[string]any{"user.api_token": "abcd1234"}})
	mk.add("tok-longer-hunter22")
	got := mk.text("pw hunter22, token tok-longer-hunter22, cfg abcd1234")
	if want := "pw ******, token ******, cfg ******"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if err := mk.err(errors.New("failed: hunter22")); err.Error() != "failed: ******" || errors.Unwrap(err) != nil {
		t.Fatalf("masked error %q wraps %v", err, errors.Unwrap(err))
	}
	changes := maskChanges(mk, map[string]any{"a": map[string]any{"old": nil, "new": []any{"hunter22"}}})
	if !reflect.DeepEqual(changes, map[string]any{"a": map[string]any{"old": nil, "new": []any{"******"}}}) {
		t.Fatalf("changes: %v", changes)
	}
}

func TestNormalisation(t *testing.T) {
	for in, want := range map[string]string{
		"192.168.1.102": "192.168.1.102:8443", "192.168.1.102:9443": "192.168.1.102:9443",
		"https://10.0.0.1:8443": "10.0.0.1:8443", "::1": "[::1]:8443", "[::1]": "[::1]:8443", "[::]:8443": "[::]:8443",
	} {
		if got := normAddress(in); got != want {
			t.Errorf("normAddress(%q) = %q, want %q", in, got, want)
		}
	}
	for _, tc := range []struct{ key, a, b string }{
		{"cluster.max_voters", "3", ""},
		{"images.auto_update_cached", "yes", "true"},
		{"images.auto_update_cached", "on", ""},
		{"core.https_address", "10.0.0.1", "10.0.0.1:8443"},
		{"cluster.join_token_expiry", "3H", ""},
	} {
		if normValue(tc.key, tc.a) != normValue(tc.key, tc.b) {
			t.Errorf("%s: %q and %q should compare equal", tc.key, tc.a, tc.b)
		}
	}
	if normValue("cluster.max_voters", "5") == normValue("cluster.max_voters", "") {
		t.Error("5 voters must differ from the default")
	}
}

func TestSettingsDiff(t *testing.T) {
	info := &serverInfo{clustered: true, config: map[string]string{
		"cluster.https_address": "10.0.0.1:8443", "core.https_address": "10.0.0.1:8443",
		"cluster.max_voters": "5", "user.old": "x", "loki.auth.password": "pw-secret",
	}}
	v := func(s string) *string { return &s }
	w := &settingsWant{managed: true, set: map[string]*string{"cluster.max_voters": v("3"), "cluster.max_standby": v("2"), "user.new": v("y")}}
	cfg, changes, fail := w.diff(info)
	if fail != "" {
		t.Fatal(fail)
	}
	want := map[string]any{
		"cluster.max_voters": change("5", "3"),
		"user.new":           change(nil, "y"),
		"user.old":           change("x", nil),
		"loki.auth.password": change(secret.Mask, nil),
	}
	if !reflect.DeepEqual(changes, want) {
		t.Fatalf("changes\n got %v\nwant %v", changes, want)
	}
	// Unset keys are sent as "" (a user.* key left out of a PUT survives);
	// member-local keys are repeated unchanged.
	if cfg["user.old"] != "" || cfg["cluster.https_address"] != "10.0.0.1:8443" || cfg["core.https_address"] == "" || cfg["user.new"] != "y" {
		t.Fatalf("cfg: %v", cfg)
	}
	w = &settingsWant{set: map[string]*string{"cluster.https_address": v("10.0.0.2")}}
	if _, _, fail := w.diff(info); !strings.Contains(fail, "cannot change on a clustered member") {
		t.Fatalf("address change: %q", fail)
	}
	w = &settingsWant{set: map[string]*string{"cluster.https_address": v("10.0.0.1")}}
	if _, ch, fail := w.diff(info); fail != "" || len(ch) != 0 {
		t.Fatalf("same address without port: %v %q", ch, fail)
	}
}

func TestMemberDiff(t *testing.T) {
	w, err := parseWant(map[string]any{
		"description": "d", "groups": []any{"gpu", "default"}, "roles": []any{"event-hub", "database"},
		"config": map[string]any{"user.a": 1, "user.gone": nil, "scheduler.instance": "all"},
	})
	if err != nil {
		t.Fatal(err)
	}
	cur := api.ClusterMemberPut{Description: "d", FailureDomain: "default", Groups: []string{"default"},
		Roles: []string{"database-leader", "database"}, Config: map[string]string{"user.gone": "x", "user.keep": "k"}}
	put, changes, missing, err := w.diff(nil, cur)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"groups": change([]string{"default"}, []string{"default", "gpu"}),
		"roles":  change([]string{}, []string{"event-hub"}),
		"config": change(map[string]any{"user.a": nil, "user.gone": "x"}, map[string]any{"user.a": "1", "user.gone": nil}),
	}
	if !reflect.DeepEqual(changes, want) {
		t.Fatalf("changes\n got %#v\nwant %#v", changes, want)
	}
	if !reflect.DeepEqual(missing, []string{"gpu"}) {
		t.Fatalf("missing groups: %v", missing)
	}
	if !reflect.DeepEqual(put.Roles, []string{"database-leader", "database", "event-hub"}) ||
		!reflect.DeepEqual(map[string]string(put.Config), map[string]string{"user.a": "1", "user.keep": "k"}) {
		t.Fatalf("put: %+v", put)
	}
}

func TestMemberConfigAnswers(t *testing.T) {
	asked := []api.ClusterMemberConfigKey{
		{Entity: "storage-pool", Name: "default", Key: "source", Description: "d"},
		{Entity: "storage-pool", Name: "fast", Key: "source"},
	}
	user := []api.ClusterMemberConfigKey{
		{Entity: "storage-pool", Name: "fast", Key: "source", Value: "/dev/sdb"},
		{Entity: "storage-pool", Name: "fast", Key: "driver", Value: "zfs"},
	}
	got := memberConfig(asked, user)
	want := []api.ClusterMemberConfigKey{
		{Entity: "storage-pool", Name: "default", Key: "source"},
		{Entity: "storage-pool", Name: "fast", Key: "source", Value: "/dev/sdb"},
		{Entity: "storage-pool", Name: "fast", Key: "driver", Value: "zfs"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v", got)
	}
}

func TestValidate(t *testing.T) {
	tok := (&api.ClusterMemberJoinToken{ServerName: "node2", Fingerprint: "ab", Addresses: []string{"10.0.0.1:8443"}, Secret: "s3cr3t-join"}).String()
	m := NewWithPool(nil, nil)
	for _, tc := range []struct {
		fn   string
		args map[string]any
		want string // "" = valid
	}{
		{"cluster_member_present", map[string]any{"address": "10.0.0.2"}, ""},
		{"cluster_member_present", map[string]any{}, "argument address: required"},
		{"cluster_member_present", map[string]any{"address": "a", "config": map[string]any{"core.debug_address": "x"}}, "only scheduler.instance and user.*"},
		{"cluster_member_present", map[string]any{"address": "a", "config": map[string]any{"scheduler.instance": "some"}}, "all, group or manual"},
		{"cluster_member_present", map[string]any{"address": "a", "groups": []any{}}, "at least one cluster group"},
		{"cluster_member_present", map[string]any{"address": "a", "cluster_token": "bm90IGEgdG9rZW4="}, "not a join token"},
		{"cluster_member_present", map[string]any{"address": "a", "cluster_token": tok}, ""},
		{"cluster_member_present", map[string]any{"address": "a", "member_config": []any{map[string]any{"entity": "disk", "name": "x", "key": "k"}}}, "storage-pool or network"},
		{"cluster_member_absent", map[string]any{"force": "maybe"}, "want a boolean"},
		{"settings_present", map[string]any{"config": map[string]any{"core.trust_password": "x", "cluster.max_voters": 5}}, ""},
		{"settings_present", map[string]any{}, "argument config: required"},
		{"settings_config", map[string]any{"key": "user.a"}, "argument value: required"},
		{"settings_absent", map[string]any{"key": "user.a"}, ""},
		{"cluster_enabled", map[string]any{"address": []any{"x"}}, "want a scalar"},
	} {
		name := "node2"
		args := map[string]any{"name": name}
		for k, v := range tc.args {
			args[k] = v
		}
		err := m.Validate(&module.Call{ID: name, Function: tc.fn, Name: name, Args: args})
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s %v: unexpected error %v", tc.fn, tc.args, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s %v: want error containing %q, got %v", tc.fn, tc.args, tc.want, err)
		}
	}
	// A token for another member is refused without printing it.
	err := m.Validate(&module.Call{ID: "node3", Function: "cluster_member_present", Name: "node3",
		Args: map[string]any{"name": "node3", "address": "a", "cluster_token": tok}})
	if err == nil || strings.Contains(err.Error(), tok) || strings.Contains(err.Error(), "s3cr3t-join") {
		t.Fatalf("token for another member: %v", err)
	}
}

func TestFunctionsDocumented(t *testing.T) {
	m := NewWithPool(nil, nil)
	for _, f := range m.Functions() {
		if f.Doc == "" {
			t.Errorf("%s: no doc", f.Name)
		}
		if a, ok := f.Arg("name"); !ok || !a.Required {
			t.Errorf("%s: name must be a required argument", f.Name)
		}
		for _, a := range f.Args {
			if strings.Contains(a.Name, "password") || strings.Contains(a.Name, "token") {
				if !a.Secret {
					t.Errorf("%s.%s: must be Secret", f.Name, a.Name)
				}
			}
		}
	}
}
