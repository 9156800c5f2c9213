package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/statectl/statectl/runner/cli"
	"github.com/statectl/statectl/runner/incusconn"
	"github.com/statectl/statectl/runner/lab"
	"github.com/statectl/statectl/runner/lab/labtest"
	"github.com/statectl/statectl/runner/roster"
)

// incusLab is a lab (3 members unless said) clustered by the shipped states (the seed
// flow), with the statectl flags that point at it.
type incusLab struct {
	lab    *lab.Lab
	roster *roster.Roster
	common []string
	// shared: the lab also has sharedPools and sharedNetworks.
	shared bool
}

// The shared resources of BenchmarkIncusNoopApplyShared: two dir pools with
// a source per member and two macvlan networks with a parent per member,
// in the guide's pillar shapes with grain-dependent member values (the
// Salt way).
var (
	sharedPools    = []string{"benchp1", "benchp2"}
	sharedNetworks = []string{"benchn1", "benchn2"}
)

func startIncusLab(b *testing.B) *incusLab { return startLab(b, 3, false) }

// startLab starts an n-member lab; with shared, the pillar also carries
// sharedPools and sharedNetworks, so the seed flow creates them.
func startLab(b *testing.B, n int, shared bool) *incusLab {
	b.Helper()
	l := labtest.Start(b, n)
	if shared {
		writeSharedPillar(b, l)
	}
	states, err := filepath.Abs("../../states")
	if err != nil {
		b.Fatal(err)
	}
	r, err := roster.Load(l.RosterPath())
	if err != nil {
		b.Fatal(err)
	}
	config := filepath.Join(b.TempDir(), "statectl.yaml")
	if err := os.WriteFile(config, []byte("{}\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	il := &incusLab{lab: l, roster: r, common: []string{"--states", states, "--pillar", l.PillarDir(),
		"--roster", l.RosterPath(), "--config", config}, shared: shared}
	for _, m := range l.Members {
		il.apply(b, 0, nil, "apply", m.Name, "incus.cluster")
	}
	il.apply(b, 0, nil, "apply", "node*")
	return il
}

// apply runs statectl with the lab flags and fails unless it exits want.
func (il *incusLab) apply(b *testing.B, want int, c *incusconn.Counter, args ...string) {
	var stderr bytes.Buffer
	if code := cli.MainCounted(append(args, il.common...), io.Discard, &stderr, c); code != want {
		b.Fatalf("statectl %v: exit %d, want %d\n%s", args, code, want, stderr.String())
	}
}

// noop is `statectl apply 'node*' --detailed-exitcode`: the highstate of
// the shipped states on all three members, converged, so exit 0.
func (il *incusLab) noop(b *testing.B, c *incusconn.Counter) {
	il.apply(b, 0, c, "apply", "node*", "--detailed-exitcode")
}

// floor does only the reads a no-op apply of the shipped states needs:
// each member's server config (GET /1.0 on its own socket, i.e. its member
// scope, which incusconn.Connect reads while connecting) and the member
// list once (membership and member fields of every target). It uses fresh
// connections through incusconn, as a new statectl process does, so both
// sides pay the same transport and are counted alike.
func (il *incusLab) floor(b *testing.B, c *incusconn.Counter) {
	ctx := context.Background()
	for i, m := range il.lab.Members {
		conn, err := incusconn.Connect(ctx, il.roster, m.Name, incusconn.Options{Counter: c})
		if err != nil {
			b.Fatal(err)
		}
		if conn.Info.Environment.ServerName != m.Name || conn.Info.Config == nil {
			b.Fatalf("server %s: %+v", m.Name, conn.Info.Environment)
		}
		if i == 0 {
			if ms, err := conn.Server.GetClusterMembers(); err != nil || len(ms) != len(il.lab.Members) {
				b.Fatalf("members: %d, %v", len(ms), err)
			}
		}
		if il.shared {
			il.floorShared(b, conn, i)
		}
		conn.Close()
	}
}

// floorShared reads what converged shared resources need from member i's
// connection: once per run (i == 0) each pool and network (global config,
// description, status), and on every member its own entry (its
// member-specific keys: source, parent), read where it lives so no member
// forwards the request.
func (il *incusLab) floorShared(b *testing.B, conn *incusconn.Conn, i int) {
	m := il.lab.Members[i].Name
	for _, name := range sharedPools {
		if i == 0 {
			if p, _, err := conn.Server.GetStoragePool(name); err != nil || p.Status != "Created" {
				b.Fatalf("pool %s: %v", name, err)
			}
		}
		if p, _, err := conn.Server.UseTarget(m).GetStoragePool(name); err != nil || p.Config["source"] == "" {
			b.Fatalf("pool %s on %s: %v", name, m, err)
		}
	}
	for _, name := range sharedNetworks {
		if i == 0 {
			if n, _, err := conn.Server.GetNetwork(name); err != nil || n.Status != "Created" {
				b.Fatalf("network %s: %v", name, err)
			}
		}
		if n, _, err := conn.Server.UseTarget(m).GetNetwork(name); err != nil || n.Config["parent"] == "" {
			b.Fatalf("network %s on %s: %v", name, m, err)
		}
	}
}

// writeSharedPillar adds the shared resources to the lab's pillar: a
// source directory per member and pool, and a veth pair per member
// and network, one end its parent (created here, removed at the end).
func writeSharedPillar(b *testing.B, l *lab.Lab) {
	b.Helper()
	root := b.TempDir()
	for _, m := range l.Members {
		for _, p := range sharedPools {
			if err := os.MkdirAll(filepath.Join(root, p, m.Name), 0o755); err != nil {
				b.Fatal(err)
			}
		}
		for i := range sharedNetworks {
			dev := parentName(i, m.Name)
			if out, err := exec.Command("ip", "link", "add", dev, "type", "veth", "peer", "name", dev+"p").CombinedOutput(); err != nil {
				b.Fatalf("ip link add %s: %v: %s", dev, err, out)
			}
			b.Cleanup(func() { _ = exec.Command("ip", "link", "del", dev).Run() })
		}
	}
	var y bytes.Buffer
	y.WriteString("incus:\n  storage_pools:\n")
	for _, p := range sharedPools {
		fmt.Fprintf(&y, "    %s:\n      driver: dir\n      config:\n        source: %s/%s/{{ grains['id'] }}\n      description: bench pool\n", p, root, p)
	}
	y.WriteString("  networks:\n")
	for i, n := range sharedNetworks {
		fmt.Fprintf(&y, "    %s:\n      network_type: macvlan\n      config:\n        parent: %s\n        mtu: \"1400\"\n      description: bench network\n",
			n, parentName(i, "{{ grains['id'] }}"))
	}
	dir := l.PillarDir()
	if err := os.WriteFile(filepath.Join(dir, "shared.sls"), y.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	top := "base:\n  '*':\n    - incus\n    - shared\n"
	if err := os.WriteFile(filepath.Join(dir, "top.sls"), []byte(top), 0o644); err != nil {
		b.Fatal(err)
	}
}

// parentName is the parent of network i on member (e.g. stbn0node1;
// interface names have at most 15 bytes).
func parentName(i int, member string) string { return fmt.Sprintf("stbn%d%s", i, member) }

// BenchmarkIncusNoopApply times a no-op apply of the shipped states on a
// 3-member lab against the floor, in the same run, and counts requests.
// ratio interleaves the two, so load on the machine hits both alike;
// x-floor is statectl's total time over the floor's.
func BenchmarkIncusNoopApply(b *testing.B) { benchNoop(b, startIncusLab(b)) }

// BenchmarkIncusNoopApplyShared is BenchmarkIncusNoopApply with two dir
// pools and two macvlan networks (issue 10): members + settings + pools +
// networks on 3 members.
func BenchmarkIncusNoopApplyShared(b *testing.B) { benchNoop(b, startLab(b, 3, true)) }

// BenchmarkIncusNoopApply10 is BenchmarkIncusNoopApply on a 10-member lab
// (issue 12's fleet figure: a no-op highstate of 10 members vs the floor).
func BenchmarkIncusNoopApply10(b *testing.B) { benchNoop(b, startLab(b, 10, false)) }

func benchNoop(b *testing.B, il *incusLab) {
	b.Run("statectl", func(b *testing.B) {
		var c incusconn.Counter
		for b.Loop() {
			il.noop(b, &c)
		}
		if c.Writes() != 0 {
			b.Fatalf("no-op apply sent writes: %s", c.String())
		}
		b.ReportMetric(float64(c.Reads())/float64(b.N), "reads/op")
		b.ReportMetric(float64(c.Writes())/float64(b.N), "writes/op")
	})
	b.Run("floor", func(b *testing.B) {
		var c incusconn.Counter
		for b.Loop() {
			il.floor(b, &c)
		}
		b.ReportMetric(float64(c.Reads())/float64(b.N), "reads/op")
	})
	b.Run("ratio", func(b *testing.B) {
		var tool, floor time.Duration
		for b.Loop() {
			start := time.Now()
			il.noop(b, nil)
			mid := time.Now()
			il.floor(b, nil)
			tool += mid.Sub(start)
			floor += time.Since(mid)
		}
		b.ReportMetric(float64(tool)/float64(floor), "x-floor")
		b.ReportMetric(float64(tool.Microseconds())/1000/float64(b.N), "statectl-ms")
		b.ReportMetric(float64(floor.Microseconds())/1000/float64(b.N), "floor-ms")
	})
}
