package grains

import (
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/statectl/statectl/runner/roster"
)

func fakeSystem(root string) *system {
	return &system{
		root:     root,
		goos:     "linux",
		goarch:   "amd64",
		numCPU:   8,
		hostname: func() (string, error) { return "node1", nil },
		ifaces: func() (map[string][]netip.Addr, error) {
			return map[string][]netip.Addr{
				"lo":   {netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")},
				"eth0": {netip.MustParseAddr("10.0.1.101"), netip.MustParseAddr("fe80::1")},
				"eth1": {netip.MustParseAddr("192.168.1.101"), netip.MustParseAddr("10.0.1.101")},
			}, nil
		},
		names: func(host string) []string { return []string{"localhost", "node1.lab.example."} },
	}
}

func TestCoreFake(t *testing.T) {
	g, err := fakeSystem("../../testdata/grains/debian12").core()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"id":             "node1.lab.example",
		"host":           "node1",
		"localhost":      "node1",
		"nodename":       "node1",
		"fqdn":           "node1.lab.example",
		"domain":         "lab.example",
		"ipv4":           []any{"10.0.1.101", "127.0.0.1", "192.168.1.101"},
		"ipv6":           []any{"::1", "fe80::1"},
		"ip4_interfaces": map[string]any{"lo": []any{"127.0.0.1"}, "eth0": []any{"10.0.1.101"}, "eth1": []any{"10.0.1.101", "192.168.1.101"}},
		"ip6_interfaces": map[string]any{"lo": []any{"::1"}, "eth0": []any{"fe80::1"}, "eth1": []any{}},
		"os":             "Debian",
		"os_family":      "Debian",
		"osfullname":     "Debian GNU/Linux",
		"oscodename":     "bookworm",
		"osrelease":      "12.7",
		"osmajorrelease": 12,
		"kernel":         "Linux",
		"kernelrelease":  "6.1.0-25-amd64",
		"cpuarch":        "x86_64",
		"num_cpus":       8,
		"mem_total":      7960,
	}
	if !reflect.DeepEqual(g, want) {
		gj, _ := json.MarshalIndent(g, "", "  ")
		t.Errorf("core grains:\n%s", gj)
		for k, v := range want {
			if !reflect.DeepEqual(g[k], v) {
				t.Errorf("%s = %#v, want %#v", k, g[k], v)
			}
		}
	}
}

func TestCoreOSVariants(t *testing.T) {
	tests := []struct {
		name, osRelease                 string
		wantOS, wantFamily, wantRelease string
		wantMajor                       any
	}{
		{"ubuntu", "ID=ubuntu\nVERSION_ID=\"24.04\"\n", "Ubuntu", "Debian", "24.04", 24},
		{"rocky", "ID=\"rocky\"\nVERSION_ID=\"9.4\"\n", "Rocky", "RedHat", "9.4", 9},
		{"unknown", "ID=wolfi\n", "Wolfi", "Wolfi", "", nil},
		{"missing", "", "Linux", "Linux", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			if tt.osRelease != "" {
				if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(root, "etc/os-release"), []byte(tt.osRelease), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			s := fakeSystem(root)
			s.names = func(string) []string { return nil }
			g, err := s.core()
			if err != nil {
				t.Fatal(err)
			}
			if g["os"] != tt.wantOS || g["os_family"] != tt.wantFamily {
				t.Errorf("os, os_family = %v, %v; want %v, %v", g["os"], g["os_family"], tt.wantOS, tt.wantFamily)
			}
			if rel, _ := g["osrelease"].(string); rel != tt.wantRelease {
				t.Errorf("osrelease = %#v, want %q", g["osrelease"], tt.wantRelease)
			}
			if g["osmajorrelease"] != tt.wantMajor {
				t.Errorf("osmajorrelease = %#v, want %#v", g["osmajorrelease"], tt.wantMajor)
			}
			if g["fqdn"] != "node1" || g["domain"] != "" {
				t.Errorf("fqdn, domain = %v, %v; want node1 and empty without a resolvable name", g["fqdn"], g["domain"])
			}
			if _, ok := g["mem_total"]; ok {
				t.Errorf("mem_total set without /proc/meminfo")
			}
		})
	}
}

func TestCoreErrors(t *testing.T) {
	s := fakeSystem(t.TempDir())
	s.hostname = func() (string, error) { return "", errors.New("boom") }
	if _, err := s.core(); err == nil {
		t.Error("hostname failure not reported")
	}
	s = fakeSystem(t.TempDir())
	s.ifaces = func() (map[string][]netip.Addr, error) { return nil, errors.New("boom") }
	if _, err := s.core(); err == nil {
		t.Error("interface failure not reported")
	}
}

// TestCoreLive checks the real machine's grains have Salt's shapes.
func TestCoreLive(t *testing.T) {
	g, err := Core()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"id", "host", "fqdn", "os", "os_family", "kernel", "cpuarch"} {
		if s, ok := g[k].(string); !ok || s == "" {
			t.Errorf("%s = %#v, want a non-empty string", k, g[k])
		}
	}
	if n, ok := g["num_cpus"].(int); !ok || n < 1 {
		t.Errorf("num_cpus = %#v, want a positive int", g["num_cpus"])
	}
	if g["kernel"] == "Linux" {
		if n, ok := g["mem_total"].(int); !ok || n < 1 {
			t.Errorf("mem_total = %#v, want a positive int (MiB)", g["mem_total"])
		}
	}
	v4, ok := g["ipv4"].([]any)
	if !ok || !slices.Contains(v4, any("127.0.0.1")) {
		t.Errorf("ipv4 = %#v, want a list including loopback", g["ipv4"])
	}
	if _, ok := g["ipv6"].([]any); !ok {
		t.Errorf("ipv6 = %#v, want a list", g["ipv6"])
	}
}

func TestFor(t *testing.T) {
	core := map[string]any{"id": "vm.example", "os": "Debian", "ipv4": []any{"127.0.0.1"}, "num_cpus": 2}
	entry := &roster.Entry{Name: "node2", Grains: map[string]any{
		"os":    "Custom",
		"roles": []any{"incus"},
		"rack":  map[any]any{1: "a"},
		"size":  uint16(3),
	}}
	incus := map[string]any{"incus": map[string]any{"version": "6.18"}, "os": "FromIncus"}
	tests := []struct {
		name  string
		entry *roster.Entry
		core  map[string]any
		extra []map[string]any
		want  map[string]any
	}{
		{"no roster entry", nil, nil, nil, map[string]any{"id": "node2"}},
		{"roster grains only", entry, nil, nil, map[string]any{
			"id": "node2", "os": "Custom", "roles": []any{"incus"}, "rack": map[string]any{"1": "a"}, "size": 3,
		}},
		{"local with core", &roster.Entry{Name: "local"}, core, nil, map[string]any{
			"id": "node2", "os": "Debian", "ipv4": []any{"127.0.0.1"}, "num_cpus": 2,
		}},
		{"custom beats extra beats core", entry, core, []map[string]any{incus}, map[string]any{
			"id": "node2", "os": "Custom", "ipv4": []any{"127.0.0.1"}, "num_cpus": 2, "roles": []any{"incus"},
			"rack": map[string]any{"1": "a"}, "size": 3, "incus": map[string]any{"version": "6.18"},
		}},
		{"id cannot be overridden", &roster.Entry{Grains: map[string]any{"id": "other"}}, nil, nil, map[string]any{"id": "node2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := For("node2", tt.entry, tt.core, tt.extra...)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("For = %#v\nwant %#v", got, tt.want)
			}
		})
	}
	// The result must not alias the roster's values.
	got := For("node2", entry, nil)
	got["roles"].([]any)[0] = "changed"
	if entry.Grains["roles"].([]any)[0] != "incus" {
		t.Error("For aliases roster grains")
	}
}

func TestGather(t *testing.T) {
	src := func(ctx context.Context, name string, e *roster.Entry) (map[string]any, error) {
		return map[string]any{"incus": map[string]any{"server_name": name}}, nil
	}
	g, err := Gather(context.Background(), "node2", &roster.Entry{Grains: map[string]any{"role": "join"}}, src)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"id": "node2", "role": "join", "incus": map[string]any{"server_name": "node2"}}
	if !reflect.DeepEqual(g, want) {
		t.Errorf("Gather = %#v, want %#v (no core grains for a non-local target)", g, want)
	}
	local, err := Gather(context.Background(), Local, nil)
	if err != nil {
		t.Fatal(err)
	}
	if local["id"] != Local || local["kernel"] == nil {
		t.Errorf("Gather(local) = id %v kernel %v, want core grains with id local", local["id"], local["kernel"])
	}
	failing := func(context.Context, string, *roster.Entry) (map[string]any, error) {
		return nil, errors.New("unreachable")
	}
	if _, err := Gather(context.Background(), "node2", nil, failing); err == nil || err.Error() != "failed to gather grains for node2: unreachable" {
		t.Errorf("Gather error = %v", err)
	}
}

func TestPlain(t *testing.T) {
	tests := []struct {
		in, want any
	}{
		{int64(5), 5},
		{uint8(7), 7},
		{float32(1.5), 1.5},
		{json.Number("42"), 42},
		{json.Number("4.5"), 4.5},
		{[]string{"a", "b"}, []any{"a", "b"}},
		{[2]int{1, 2}, []any{1, 2}},
		{map[string]string{"a": "b"}, map[string]any{"a": "b"}},
		{map[any]any{"x": []any{int32(1)}, 2: nil}, map[string]any{"x": []any{1}, "2": nil}},
		{[]byte("raw"), "raw"},
		{nil, nil},
		{true, true},
	}
	for _, tt := range tests {
		if got := Plain(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Plain(%#v) = %#v, want %#v", tt.in, got, tt.want)
		}
	}
}

func TestForCluster(t *testing.T) {
	e := &roster.Entry{Cluster: "east"}
	if g := For("n1", e, nil); g["cluster"] != "east" {
		t.Errorf("cluster grain = %v, want east", g["cluster"])
	}
	e.Grains = map[string]any{"cluster": "custom"}
	if g := For("n1", e, nil); g["cluster"] != "custom" {
		t.Errorf("custom cluster grain = %v, want custom (custom grains win)", g["cluster"])
	}
	if g := For("n1", &roster.Entry{}, nil); g["cluster"] != nil {
		t.Errorf("no cluster field: grain = %v, want none", g["cluster"])
	}
}
