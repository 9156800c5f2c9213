package run

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/statectl/statectl/runner/roster"
)

func fleetTargets(spec ...string) []*Target {
	var ts []*Target
	for _, s := range spec {
		name, cluster, _ := strings.Cut(s, "@")
		ts = append(ts, &Target{Name: name, Entry: &roster.Entry{Name: name, Cluster: cluster}})
	}
	return ts
}

func groupNames(gs []Group) string {
	var parts []string
	for _, g := range gs {
		var names []string
		for _, t := range g.Targets {
			names = append(names, t.Name)
		}
		parts = append(parts, g.Cluster+"="+strings.Join(names, ","))
	}
	return strings.Join(parts, " ")
}

func TestClusters(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want string
	}{
		{"no clusters", []string{"a", "b"}, "=a,b"},
		{"two clusters interleaved", []string{"a1@a", "b1@b", "a2@a", "b2@b"}, "a=a1,a2 b=b1,b2"},
		{"order kept inside", []string{"b3@b", "a1@a", "b1@b"}, "b=b3,b1 a=a1"},
		{"remote without entry", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := groupNames(Clusters(fleetTargets(tt.in...))); got != tt.want {
				t.Errorf("groups = %q, want %q", got, tt.want)
			}
		})
	}
	if got := groupNames(Clusters([]*Target{{Name: "r"}})); got != "=r" {
		t.Errorf("remote: groups = %q", got)
	}
}

// TestRunFleet: groups run at once up to parallel, never two targets of
// one group, and the output is the sequential order whatever the timing.
func TestRunFleet(t *testing.T) {
	for _, parallel := range []int{0, 1, 2, 3} {
		t.Run(fmt.Sprint(parallel), func(t *testing.T) {
			groups := Clusters(fleetTargets("a1@a", "a2@a", "b1@b", "b2@b", "c1@c"))
			var mu sync.Mutex
			busy := map[string]bool{}
			var running, peak int32
			var out bytes.Buffer
			codes := RunFleet(context.Background(), groups, parallel, &out, func(g Group, tg *Target, w io.Writer) int {
				mu.Lock()
				if busy[g.Cluster] {
					t.Errorf("two targets of cluster %s at once", g.Cluster)
				}
				busy[g.Cluster] = true
				mu.Unlock()
				n := atomic.AddInt32(&running, 1)
				for {
					p := atomic.LoadInt32(&peak)
					if n <= p || atomic.CompareAndSwapInt32(&peak, p, n) {
						break
					}
				}
				// Later groups finish first, to shuffle completion order.
				time.Sleep(time.Duration(5*(3-len(g.Cluster)+int('c'-g.Cluster[0]))) * time.Millisecond)
				fmt.Fprintf(w, "%s\n", tg.Name)
				atomic.AddInt32(&running, -1)
				mu.Lock()
				busy[g.Cluster] = false
				mu.Unlock()
				return len(tg.Name)
			})
			if got := out.String(); got != "a1\na2\nb1\nb2\nc1\n" {
				t.Errorf("output = %q", got)
			}
			if fmt.Sprint(codes) != "[2 2 2 2 2]" {
				t.Errorf("codes = %v", codes)
			}
			want := int32(parallel)
			if want < 1 {
				want = 1
			}
			if peak > want {
				t.Errorf("peak concurrency %d > parallel %d", peak, want)
			}
			if parallel >= 2 && peak < 2 {
				t.Errorf("peak concurrency %d, want groups run at once", peak)
			}
		})
	}
}

func TestRunFleetCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	groups := Clusters(fleetTargets("a1@a", "a2@a"))
	codes := RunFleet(ctx, groups, 1, io.Discard, func(g Group, tg *Target, w io.Writer) int {
		cancel()
		return 0
	})
	if fmt.Sprint(codes) != "[0 -1]" {
		t.Errorf("codes = %v, want the second target not run", codes)
	}
}
