package roster

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	r, err := Parse("roster.yaml", []byte(`
node1:
  socket: /var/lib/incus/unix.socket
  grains: {roles: [incus], ipv4: [10.0.0.1]}
node2:
  url: https://node2:8443
  addresses: [node3:8443, "https://node4"]
node3:
`))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(r.Names(), ","); got != "node1,node2,node3" {
		t.Fatalf("names = %s", got)
	}
	n1, _ := r.Get("node1")
	if n1.Socket != "/var/lib/incus/unix.socket" || n1.Grains["roles"] == nil {
		t.Fatalf("node1 = %+v", n1)
	}
	n2, _ := r.Get("node2")
	if got := n2.Connection(); got["url"] != "https://node2:8443" || len(got["addresses"].([]any)) != 2 {
		t.Fatalf("node2 connection = %v", got)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"not a mapping", "- node1\n", "line 1: the roster must be a mapping of target names to entries"},
		{"entry not a mapping", "node1: socket\n", `line 1: entry "node1" must be a mapping`},
		{"unknown key", "node1:\n  sockt: /x\n", `entry "node1": line 2: unknown key "sockt"`},
		{"grains as a list", "node1:\n  grains:\n    - roles: incus\n", `entry "node1": line 3: grains must be a mapping of grain names to values`},
		{"http url", "node1:\n  url: http://node1:8443\n", `entry "node1": line 2: url "http://node1:8443": only https:// is supported`},
		{"unix url", "node1:\n  url: unix:///run/incus.socket\n", "for a local daemon use socket: PATH"},
		{"addresses not a list", "node1:\n  addresses: node2\n", `line 2: addresses must be a list`},
		{"bad address", "node1:\n  addresses: [\"http://x\"]\n", `line 2: addresses: url "http://x"`},
		{"socket a list", "node1:\n  socket: [a, b]\n", "line 2: socket must be a string"},
		{"bad yaml", "node1: {\n", "failed to parse roster roster.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("roster.yaml", []byte(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestGrainsOrder(t *testing.T) {
	r, err := Parse("roster.yaml", []byte(`
node1:
  grains:
    zone: b
    roles: [incus]
    incus: {members: [{name: n3, addr: x}], bootstrap: node3, address: y}
node2:
  socket: /s
`))
	if err != nil {
		t.Fatal(err)
	}
	n1, _ := r.Get("node1")
	o := n1.GrainsOrder
	if got := strings.Join(o.Ordered(n1.Grains), " "); got != "zone roles incus" {
		t.Errorf("grain order = %s", got)
	}
	incus := n1.Grains["incus"].(map[string]any)
	if got := strings.Join(o.Field("incus").Ordered(incus), " "); got != "members bootstrap address" {
		t.Errorf("incus grain order = %s", got)
	}
	member := incus["members"].([]any)[0].(map[string]any)
	if got := strings.Join(o.Field("incus").Field("members").Item(0).Ordered(member), " "); got != "name addr" {
		t.Errorf("member order = %s", got)
	}
	if n2, _ := r.Get("node2"); n2.GrainsOrder != nil {
		t.Errorf("node2 without grains has order %+v", n2.GrainsOrder)
	}
}

func TestCluster(t *testing.T) {
	r, err := Parse("roster.yaml", []byte("a1:\n  cluster: a\nb1:\n  cluster: b\nc1:\n"))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"a1": "a", "b1": "b", "c1": ""} {
		if e, _ := r.Get(name); e.Cluster != want {
			t.Errorf("%s cluster = %q, want %q", name, e.Cluster, want)
		}
	}
	if _, err := Parse("roster.yaml", []byte("a1:\n  cluster: [a]\n")); err == nil || !strings.Contains(err.Error(), "line 2: cluster must be a string") {
		t.Errorf("cluster as a list: err = %v", err)
	}
}
