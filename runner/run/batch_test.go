package run

import (
	"testing"

	"github.com/lxc/incus/v6/shared/api"
)

func TestParseBatch(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want int
		err  bool
	}{
		{"1", 3, 1, false}, {"2", 3, 2, false}, {"50%", 3, 2, false}, {"100%", 3, 3, false},
		{"1%", 3, 1, false}, {"0", 3, 0, true}, {"150%", 3, 0, true}, {"x", 3, 0, true}, {"-1", 3, 0, true},
	} {
		got, err := ParseBatch(tc.in, tc.n)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ParseBatch(%q, %d) = %d, %v; want %d, err %v", tc.in, tc.n, got, err, tc.want, tc.err)
		}
	}
}

func TestBatches(t *testing.T) {
	ts := []*Target{{Name: "a"}, {Name: "b"}, {Name: "c"}}
	got := Batches(ts, 2)
	if len(got) != 2 || len(got[0]) != 2 || got[1][0].Name != "c" {
		t.Fatalf("Batches = %v", got)
	}
}

func TestGateReason(t *testing.T) {
	db := []string{"database"}
	m := func(name, status, msg string, roles []string) api.ClusterMember {
		c := api.ClusterMember{ServerName: name, Status: status, Message: msg}
		c.Roles = roles
		return c
	}
	for _, tc := range []struct {
		name    string
		members []api.ClusterMember
		want    string
	}{
		{"healthy", []api.ClusterMember{m("n1", "Online", "Fully operational", []string{"database-leader", "database"}), m("n2", "Online", "", db), m("n3", "Online", "", db)}, ""},
		{"offline", []api.ClusterMember{m("n1", "Online", "", db), m("n2", "Offline", "No heartbeat for 20s", db), m("n3", "Online", "", db)}, "n2 is Offline: No heartbeat for 20s"},
		{"evacuating", []api.ClusterMember{m("n1", "Online", "", db), m("n2", "Evacuating", "", db), m("n3", "Online", "", db)}, "n2 is Evacuating"},
		{"blocked", []api.ClusterMember{m("n1", "Online", "", db), m("n2", "Blocked", "waiting for other nodes", db), m("n3", "Online", "", db)}, "n2 is Blocked: waiting for the other members to be upgraded (waiting for other nodes)"},
		{"voters", []api.ClusterMember{m("n1", "Online", "", db), m("n2", "Online", "", nil), m("n3", "Online", "", db)}, "the database has 2 of 3 voters"},
		{"one member", []api.ClusterMember{m("n1", "Online", "", db)}, ""},
	} {
		if got := GateReason(tc.members); got != tc.want {
			t.Errorf("%s: GateReason = %q, want %q", tc.name, got, tc.want)
		}
	}
}
