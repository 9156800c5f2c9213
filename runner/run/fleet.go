package run

import (
	"bytes"
	"context"
	"io"
	"sync"
)

// Group is the targets of one cluster of a fleet roster, in run order.
type Group struct {
	// Cluster is the roster's cluster field; "" for targets without one
	// (and CLI remotes), which form one group.
	Cluster string
	Targets []*Target
}

// Clusters splits ordered targets (Session.Order) into one group per
// cluster. Groups come in the order of their first target and keep the
// targets' order inside, so a cluster's bootstrap still precedes its joins.
func Clusters(targets []*Target) []Group {
	var groups []Group
	index := map[string]int{}
	for _, t := range targets {
		c := ""
		if t.Entry != nil {
			c = t.Entry.Cluster
		}
		i, ok := index[c]
		if !ok {
			i = len(groups)
			index[c] = i
			groups = append(groups, Group{Cluster: c})
		}
		groups[i].Targets = append(groups[i].Targets, t)
	}
	return groups
}

// RunFleet runs each group's targets one after another with fn, and
// up to parallel groups at once (parallel < 1 means 1: sequential, Salt's
// default). Each target writes into its own buffer; out receives the
// buffers in the groups' and targets' order whatever order they finish
// in, so the output is the same as a sequential run's. fn must be safe to
// call for targets of different groups at once (a Session is not: give
// each group its own). It returns fn's codes in the same order; a target
// not run because ctx ended has code -1.
func RunFleet(ctx context.Context, groups []Group, parallel int, out io.Writer, fn func(g Group, t *Target, w io.Writer) int) []int {
	if parallel < 1 {
		parallel = 1
	}
	type slot struct {
		buf  bytes.Buffer
		code int
		done chan struct{}
	}
	slots := make([][]*slot, len(groups))
	for i, g := range groups {
		slots[i] = make([]*slot, len(g.Targets))
		for j := range g.Targets {
			slots[i][j] = &slot{code: -1, done: make(chan struct{})}
		}
	}
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i, g := range groups {
		wg.Add(1)
		go func(i int, g Group) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			for j, t := range g.Targets {
				s := slots[i][j]
				if ctx.Err() == nil {
					s.code = fn(g, t, &s.buf)
				}
				close(s.done)
			}
		}(i, g)
	}
	// Print in order as soon as each slot is done: a sequential run
	// streams target by target as before.
	var codes []int
	for i := range groups {
		for _, s := range slots[i] {
			<-s.done
			_, _ = out.Write(s.buf.Bytes())
			codes = append(codes, s.code)
		}
	}
	wg.Wait()
	return codes
}
