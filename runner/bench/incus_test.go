package bench

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/statectl/statectl/runner/cli"
	"github.com/statectl/statectl/runner/incusconn"
	"github.com/statectl/statectl/runner/lab"
	"github.com/statectl/statectl/runner/lab/labtest"
	"github.com/statectl/statectl/runner/roster"
)

// incusLab is a 3-member lab clustered by the shipped states (the seed
// flow), with the statectl flags that point at it.
type incusLab struct {
	lab    *lab.Lab
	roster *roster.Roster
	common []string
}

func startIncusLab(b *testing.B) *incusLab {
	b.Helper()
	l := labtest.Start(b, 3)
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
		"--roster", l.RosterPath(), "--config", config}}
	for _, args := range [][]string{
		{"apply", "node1", "incus.cluster"},
		{"apply", "node2", "incus.cluster"},
		{"apply", "node3", "incus.cluster"},
		{"apply", "node*"},
	} {
		il.apply(b, 0, nil, args...)
	}
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
			if ms, err := conn.Server.GetClusterMembers(); err != nil || len(ms) != 3 {
				b.Fatalf("members: %d, %v", len(ms), err)
			}
		}
		conn.Close()
	}
}

// BenchmarkIncusNoopApply times a no-op apply of the shipped states on a
// 3-member lab against the floor, in the same run, and counts requests.
// ratio interleaves the two, so load on the machine hits both alike;
// x-floor is statectl's total time over the floor's.
func BenchmarkIncusNoopApply(b *testing.B) {
	il := startIncusLab(b)
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
