package incus

import (
	"testing"

	"github.com/statectl/statectl/runner/roster"
)

// TestRosterAt: a `cluster` candidate that is an address resolves to the
// roster entry at that address (url or incus_address grain first, then
// failover addresses); names and unknown addresses pass through.
func TestRosterAt(t *testing.T) {
	m := &Module{roster: &roster.Roster{Entries: map[string]*roster.Entry{
		"node1": {URL: "https://192.168.1.101:8443"},
		"node2": {URL: "192.168.1.102"},
		"node3": {URL: "192.168.1.103", Addresses: []string{"192.168.1.101", "192.168.1.102"}},
		"lab1":  {Socket: "/x/unix.socket", Grains: map[string]any{"incus_address": "127.0.5.11:8443"}},
		"[::1]": {Socket: "/y/unix.socket"},
	}}}
	for _, tc := range []struct{ in, want string }{
		{"node2", "node2"},
		{"192.168.1.101:8443", "node1"}, // url beats node3's failover list
		{"192.168.1.101", "node1"},
		{"https://192.168.1.102:8443", "node2"},
		{"192.168.1.102:9443", "192.168.1.102:9443"},
		{"127.0.5.11:8443", "lab1"},
		{"127.0.5.11", "lab1"},
		{"10.0.0.1:8443", "10.0.0.1:8443"},
		{"[::1]", "[::1]"},
		{"", ""},
	} {
		if got := m.rosterAt(tc.in); got != tc.want {
			t.Errorf("rosterAt(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
