package watch

import (
	"reflect"
	"testing"

	"github.com/lxc/incus/v6/shared/api"

	"github.com/statectl/statectl/runner/roster"
)

func TestRotate(t *testing.T) {
	srcs := []Source{{Name: "node2"}, {Name: "node1"}, {Name: "node3"}}
	tests := []struct {
		last string
		want []string
	}{
		{"", []string{"node2", "node1", "node3"}},
		{"node2", []string{"node1", "node3", "node2"}},
		{"node1", []string{"node2", "node3", "node1"}},
		{"gone", []string{"node2", "node1", "node3"}},
	}
	for _, tt := range tests {
		var got []string
		for _, s := range rotate(srcs, tt.last) {
			got = append(got, s.Name)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("rotate(last=%q) = %v, want %v", tt.last, got, tt.want)
		}
	}
}

func TestMatchPeers(t *testing.T) {
	r := &roster.Roster{Entries: map[string]*roster.Entry{
		"node1": {Socket: "/lab/node1/unix.socket"},
		"node2": {Socket: "/lab/node2/unix.socket"},
		"web":   {URL: "https://10.0.0.3:8443"},                                               // a member by URL
		"db":    {URL: "https://10.9.9.9:8443", Addresses: []string{"https://10.0.0.4:8443"}}, // by address
		"other": {URL: "https://192.0.2.1:8443"},                                              // another cluster
	}}
	members := []api.ClusterMember{
		{ServerName: "node1", URL: "https://127.0.0.11:8443"},
		{ServerName: "node2", URL: "https://127.0.0.12:8443"},
		{ServerName: "c3", URL: "https://10.0.0.3:8443"},
		{ServerName: "c4", URL: "https://10.0.0.4:8443"},
	}
	tests := []struct {
		target string
		want   []string
	}{
		{"node1", []string{"db", "node2", "web"}},
		{"node2", []string{"db", "node1", "web"}},
		{"web", []string{"db", "node1", "node2"}},
		{"other", []string{"db", "node1", "node2", "web"}}, // whoever asks, the members are those
	}
	for _, tt := range tests {
		if got := MatchPeers(r, tt.target, members); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("MatchPeers(%s) = %v, want %v", tt.target, got, tt.want)
		}
	}
	if got := MatchPeers(r, "node1", nil); got != nil {
		t.Errorf("no members: %v", got)
	}
}

func TestNotice(t *testing.T) {
	tests := []struct {
		name string
		msg  string
		want Notice
		ok   bool
	}{
		{"config on another member", `{"type":"lifecycle","location":"node3","metadata":{"action":"config-updated","source":"/1.0"}}`,
			Notice{Reason: "config-updated", Location: "node3"}, true},
		{"member renamed", `{"type":"lifecycle","location":"node1","metadata":{"action":"cluster-member-updated"}}`,
			Notice{Reason: "cluster-member-updated", Location: "node1"}, true},
		{"instance event", `{"type":"lifecycle","location":"node1","metadata":{"action":"instance-started"}}`, Notice{}, false},
		{"logging", `{"type":"logging","metadata":{"message":"x"}}`, Notice{}, false},
		{"garbage", `{`, Notice{}, false},
	}
	for _, tt := range tests {
		got, ok := notice([]byte(tt.msg))
		if ok != tt.ok || got != tt.want {
			t.Errorf("%s: notice = %+v %v, want %+v %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}
