package compile

import (
	"fmt"
	"sort"
	"strings"

	"github.com/statectl/statectl/runner/state"
)

// orderKey sorts states when requisites leave the choice free: order:
// first, then numbered (ascending), then unordered, then order: last;
// declaration order breaks ties.
func orderKey(n *node) (class, num, seq int) {
	st := n.st
	switch {
	case st.OrderFirst:
		class = 0
	case st.Order > 0:
		class, num = 1, st.Order
	case st.OrderLast:
		class = 3
	default:
		class = 2
	}
	return class, num, n.seq
}

// order returns node indices in run order. It walks the states in key
// order and, as Salt does at run time, places a state's unrun requisites
// (recursively, in key order) immediately before it. The result is a
// topological order that keeps each state next to what it needs instead
// of Kahn's breadth-first interleaving, so a state that requires a later
// one runs at its own position, not after everything declared between.
// It is O(V+E) after one sort. A prereq edge (A prereq B) orders A first.
func (c *compiler) order() []int {
	nn := len(c.nodes)
	byKey := make([]int, nn)
	for i := range byKey {
		byKey[i] = i
	}
	sort.Slice(byKey, func(a, b int) bool {
		ca, na, sa := orderKey(c.nodes[byKey[a]])
		cb, nb, sb := orderKey(c.nodes[byKey[b]])
		if ca != cb {
			return ca < cb
		}
		if na != nb {
			return na < nb
		}
		return sa < sb
	})
	rank := make([]int, nn)
	for r, i := range byKey {
		rank[i] = r
	}
	// before[i]: states that must run before i.
	before := make([][]int, nn)
	for i, n := range c.nodes {
		for _, e := range n.st.Deps {
			if e.Kind == state.Prereq {
				before[e.Index] = append(before[e.Index], i)
			} else {
				before[i] = append(before[i], e.Index)
			}
		}
	}
	for i := range before {
		if len(before[i]) > 1 {
			sort.Slice(before[i], func(a, b int) bool { return rank[before[i][a]] < rank[before[i][b]] })
		}
	}

	const (
		todo = iota
		busy
		done
	)
	mark := make([]uint8, nn)
	pos := make([]int, nn) // position on the stack while busy
	out := make([]int, 0, nn)
	var stack []int
	var visit func(i int) bool
	visit = func(i int) bool {
		mark[i] = busy
		pos[i] = len(stack)
		stack = append(stack, i)
		for _, p := range before[i] {
			switch mark[p] {
			case busy:
				c.cycleError(append(append([]int(nil), stack[pos[p]:]...), p), "")
				return false
			case todo:
				if !visit(p) {
					return false
				}
			}
		}
		stack = stack[:len(stack)-1]
		mark[i] = done
		out = append(out, i)
		return true
	}
	for _, i := range byKey {
		if mark[i] == todo && !visit(i) {
			return nil
		}
	}
	return out
}

// cycleError reports a closed path of states (first == last). Each arrow
// reads "needs to run after".
func (c *compiler) cycleError(path []int, what string) {
	last := path[len(path)-1]
	for k, i := range path {
		if i == last {
			path = path[k:]
			break
		}
	}
	labels := make([]string, len(path))
	for k, i := range path {
		labels[k] = stateLabel(c.nodes[i].st)
	}
	first := c.nodes[path[0]].st
	msg := "Recursive requisites were found: " + strings.Join(labels, " -> ")
	if what != "" {
		msg = fmt.Sprintf("Recursive %s requisites were found: %s", what, strings.Join(labels, " -> "))
	}
	c.errs.add(&Error{File: first.File, Line: first.Line, SLS: first.SLS, ID: first.ID, Msg: msg,
		Hint: "break the cycle by removing one of these requisites"})
}

// build assembles the result in run order, remapping edge indices.
func (c *compiler) build(order []int) *state.Compiled {
	newIdx := make([]int, len(c.nodes))
	for pos, i := range order {
		newIdx[i] = pos
	}
	out := &state.Compiled{States: make([]*state.State, len(order))}
	for pos, i := range order {
		st := c.nodes[i].st
		for k := range st.Deps {
			st.Deps[k].Index = newIdx[st.Deps[k].Index]
		}
		out.States[pos] = st
	}
	return out
}
