package incus_test

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lxc/incus/v6/shared/api"

	"github.com/statectl/statectl/runner/lab"
	"github.com/statectl/statectl/runner/lab/labtest"
	"github.com/statectl/statectl/runner/module"
)

// newNetnsEnv is newEnv on a lab whose members each run in their own
// network namespace: a bridge network's interface and dnsmasq exist once
// per member, which a shared namespace cannot hold.
func newNetnsEnv(t *testing.T, n int) *env {
	t.Helper()
	return envOn(t, labtest.StartNetns(t, n))
}

// inMember runs ip(8) in member name's network namespace.
func inMember(t *testing.T, l *lab.Lab, name string, args ...string) string {
	t.Helper()
	m, ok := l.Member(name)
	if !ok || m.Netns == "" {
		t.Fatalf("no netns lab member %s", name)
	}
	out, err := exec.Command("ip", append([]string{"-n", m.Netns}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("ip -n %s %v: %v: %s", m.Netns, args, err, out)
	}
	return string(out)
}

// dnsmasqIn lists the dnsmasq processes in member m's network namespace.
func dnsmasqIn(t *testing.T, m lab.Member) []int {
	t.Helper()
	if _, err := os.Stat("/run/netns/" + m.Netns); err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, pid := range lab.NetnsPids("/run/netns/" + m.Netns) {
		if lab.Comm(pid) == "dnsmasq" {
			pids = append(pids, pid)
		}
	}
	return pids
}

// TestNetworkBridge converges a bridge network on a 3-member netns lab the
// Salt way: each member's state carries its own bridge.external_interfaces
// (a veth in its namespace); ipv4.address and the rest are
// global. Every member then has the bridge, with that address and its
// external interface enslaved, and its own dnsmasq. A re-run writes
// nothing; a member-specific change is one write to that member; absent is
// refused while a profile uses the network and then removes it everywhere.
func TestNetworkBridge(t *testing.T) {
	t.Parallel()
	e := newNetnsEnv(t, 3)
	// Formed by the lab: statectl's own join fetches the certificate at
	// the token's address over TCP, which the host side cannot reach in
	// netns mode.
	start := time.Now()
	if err := e.lab.Cluster(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Logf("cluster formed in %s", time.Since(start).Round(time.Millisecond))
	c1 := e.client("node1")
	nodes := []string{"node1", "node2", "node3"}
	ext := map[string]string{}
	for i, n := range nodes {
		ext[n] = "ext" + strconv.Itoa(i+1)
		inMember(t, e.lab, n, "link", "add", ext[n], "type", "veth", "peer", "name", ext[n]+"p")
	}
	call := func(target string) *module.Call {
		return mkcall(target, "network_present", "stbr0", map[string]any{
			"type": "bridge", "description": "lab bridge",
			"config": map[string]any{
				"ipv4.address": "10.99.0.1/24", "ipv4.nat": "false", "ipv6.address": "none",
				"bridge.external_interfaces": ext[target],
			},
		})
	}
	start = time.Now()
	for _, n := range nodes {
		e.mustApply(e.mod, call(n))
		t.Logf("applied on %s after %s", n, time.Since(start).Round(time.Millisecond))
	}
	nw, _, err := c1.GetNetwork("stbr0")
	if err != nil {
		t.Fatal(err)
	}
	if nw.Status != api.NetworkStatusCreated || nw.Config["ipv4.address"] != "10.99.0.1/24" || nw.Description != "lab bridge" {
		t.Fatalf("network: %+v", nw)
	}
	if _, ok := nw.Config["bridge.external_interfaces"]; ok {
		t.Errorf("member-specific key in the global config: %v", nw.Config)
	}
	for _, n := range nodes {
		got, _, err := c1.UseTarget(n).GetNetwork("stbr0")
		if err != nil || got.Config["bridge.external_interfaces"] != ext[n] {
			t.Fatalf("external interfaces on %s: %v %+v", n, err, got)
		}
		if out := inMember(t, e.lab, n, "-4", "addr", "show", "dev", "stbr0"); !strings.Contains(out, "10.99.0.1/24") {
			t.Errorf("%s: stbr0 lacks 10.99.0.1/24:\n%s", n, out)
		}
		if out := inMember(t, e.lab, n, "link", "show", ext[n]); !strings.Contains(out, "master stbr0") {
			t.Errorf("%s: %s not on stbr0:\n%s", n, ext[n], out)
		}
		m, _ := e.lab.Member(n)
		if len(dnsmasqIn(t, m)) != 1 {
			t.Errorf("%s: dnsmasq processes %v, want one", n, dnsmasqIn(t, m))
		}
	}

	t.Logf("checked after %s", time.Since(start).Round(time.Millisecond))
	// A new run: converged on every member, zero writes.
	m := e.newModule()
	for _, n := range nodes {
		if r := e.run(m, call(n)); r.writes != 0 || r.out != nil || r.planErr != nil || r.plan.Fail {
			t.Fatalf("re-run on %s: %+v", n, r)
		}
	}

	// A member-specific change goes to that member only.
	inMember(t, e.lab, "node2", "link", "add", "ext2b", "type", "veth", "peer", "name", "ext2bp")
	moved := call("node2")
	moved.Args["config"].(map[string]any)["bridge.external_interfaces"] = "ext2b"
	if r := e.mustApply(m, moved); r.writes != 1 {
		t.Fatalf("external interface change: %d writes: %+v", r.writes, r.out)
	}
	if got, _, _ := c1.UseTarget("node2").GetNetwork("stbr0"); got.Config["bridge.external_interfaces"] != "ext2b" {
		t.Fatalf("node2: %v", got.Config)
	}
	if got, _, _ := c1.UseTarget("node1").GetNetwork("stbr0"); got.Config["bridge.external_interfaces"] != ext["node1"] {
		t.Fatalf("node1 changed: %v", got.Config)
	}
	e.mustConverged(e.newModule(), moved)

	t.Logf("member change after %s", time.Since(start).Round(time.Millisecond))
	// Absent is refused while a profile uses the network, naming it.
	if err := c1.CreateProfile(api.ProfilesPost{Name: "uses-stbr0", ProfilePut: api.ProfilePut{Devices: map[string]map[string]string{
		"eth0": {"type": "nic", "network": "stbr0"}}}}); err != nil {
		t.Fatal(err)
	}
	absent := mkcall("node3", "network_absent", "stbr0", nil)
	if r := e.plan(m, absent); r.planErr != nil || !r.plan.Fail || !strings.Contains(r.plan.Comment, "/1.0/profiles/uses-stbr0") {
		t.Fatalf("absent while used: %v %+v", r.planErr, r.plan)
	}
	if err := c1.DeleteProfile("uses-stbr0"); err != nil {
		t.Fatal(err)
	}
	// A new run: the run's read cache keeps what this one read before the
	// profile went away (an outside change is seen by the next run).
	e.mustApply(e.newModule(), absent)
	if _, _, err := c1.GetNetwork("stbr0"); err == nil {
		t.Fatal("network still there after absent")
	}
	for _, n := range nodes {
		if out := inMember(t, e.lab, n, "-o", "link", "show"); strings.Contains(out, "stbr0") {
			t.Errorf("%s: bridge left after absent:\n%s", n, out)
		}
	}
	e.mustConverged(e.newModule(), absent)
	t.Logf("absent after %s", time.Since(start).Round(time.Millisecond))
}
