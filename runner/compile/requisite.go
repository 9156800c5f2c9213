package compile

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/statectl/statectl/runner/state"
)

// index builds the lookup tables requisites resolve against.
func (c *compiler) index() {
	c.byID = map[string][]int{}
	c.byName = map[string][]int{}
	c.bySLS = map[string][]int{}
	for i, n := range c.nodes {
		c.byID[n.st.ID] = append(c.byID[n.st.ID], i)
		c.byName[n.st.Name] = append(c.byName[n.st.Name], i)
		c.bySLS[n.st.SLS] = append(c.bySLS[n.st.SLS], i)
	}
}

// find returns the states a requisite target names, in declaration order:
// `sls: x` is every state of SLS x, `id: x` the states of ID x, a bare
// string any state with that ID or name, `mod: x` the same restricted to
// module mod.
func (c *compiler) find(r reqRef) []int {
	switch r.mod {
	case "sls":
		return c.bySLS[r.val]
	case "id":
		return c.byID[r.val]
	}
	both := union(c.byID[r.val], c.byName[r.val])
	if r.mod == "" {
		return both
	}
	out := both[:0:0]
	for _, i := range both {
		if c.nodes[i].st.Module == r.mod {
			out = append(out, i)
		}
	}
	return out
}

// union merges two ascending index lists.
func union(a, b []int) []int {
	if len(b) == 0 {
		return a
	}
	if len(a) == 0 {
		return b
	}
	out := make([]int, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || (i < len(a) && a[i] < b[j]):
			out = append(out, a[i])
			i++
		case i == len(a) || b[j] < a[i]:
			out = append(out, b[j])
			j++
		default:
			out = append(out, a[i])
			i, j = i+1, j+1
		}
	}
	return out
}

type useLink struct {
	src int
	ref reqRef
}

// resolveRequisites turns every requisite into state.Edges; the _in forms
// land on the referenced states. use links are kept for resolveUse.
func (c *compiler) resolveRequisites() {
	c.uses = map[int][]useLink{}
	for i, n := range c.nodes {
		for _, r := range n.reqs {
			kind, in := strings.CutSuffix(r.kind, "_in")
			targets := c.find(r)
			if r.mod == "sls" {
				targets = without(targets, i) // a state never requires itself through its own SLS
			}
			if len(targets) == 0 {
				c.missing(n, r)
				continue
			}
			for _, t := range targets {
				from, to := i, t
				if in {
					from, to = t, i
				}
				if kind == "use" {
					c.uses[from] = append(c.uses[from], useLink{src: to, ref: r})
					continue
				}
				c.addDep(from, state.ReqKind(kind), to)
			}
		}
	}
}

func without(list []int, x int) []int {
	for k, v := range list {
		if v == x {
			return append(list[:k:k], list[k+1:]...)
		}
	}
	return list
}

func (c *compiler) addDep(from int, kind state.ReqKind, to int) {
	n := c.nodes[from]
	e := state.Edge{Kind: kind, Index: to}
	if n.deps == nil {
		n.deps = map[state.Edge]bool{}
	}
	if n.deps[e] {
		return
	}
	n.deps[e] = true
	n.st.Deps = append(n.st.Deps, e)
}

// missing reports a requisite that names no state, as Salt 3008 does, with
// a hint when the target exists under another module or a close spelling.
func (c *compiler) missing(n *node, r reqRef) {
	e := &Error{File: r.file, Line: r.line, SLS: n.st.SLS, ID: n.st.ID, Arg: r.kind, Msg: fmt.Sprintf(
		"Referenced state does not exist for requisite %s in state [%s] in SLS [%s]", r, n.st.ID, n.st.SLS)}
	switch r.mod {
	case "sls":
		e.Hint = "SLS '" + r.val + "' is not part of this run; include it"
		if dym := didYouMean(r.val, keys(c.bySLS)); dym != "" {
			e.Hint = dym + " Otherwise " + e.Hint
		}
	default:
		if r.mod != "" && r.mod != "id" {
			if other := union(c.byID[r.val], c.byName[r.val]); len(other) > 0 {
				m := c.nodes[other[0]].st.Module
				e.Hint = fmt.Sprintf("'%s' is a %s state: write `- %s: %s`", r.val, m, m, r.val)
				break
			}
		}
		e.Hint = didYouMean(r.val, keys(c.byID, c.byName))
		if e.Hint == "" {
			e.Hint = "requisites name a state's ID or name; include the SLS that declares it"
			if t := c.opts.Target; t != nil && t.ID != "" {
				// The usual cause besides a missing include: a Jinja
				// condition renders the state for other targets only.
				e.Hint += fmt.Sprintf(", or check the Jinja conditions around it: `statectl render %s` lists the states %s gets", t.ID, t.ID)
			}
		}
	}
	c.errs.add(e)
}

// keys lists the keys of ms, sorted and without duplicates.
func keys(ms ...map[string][]int) []string {
	set := map[string]bool{}
	for _, m := range ms {
		for k := range m {
			set[k] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

// resolveUse copies, for each use link, the source state's arguments that
// the using state does not set itself (never name, never requisites).
// Sources are resolved first, so use chains inherit transitively. It
// returns false on a cycle.
func (c *compiler) resolveUse() bool {
	const (
		todo = iota
		busy
		done
	)
	mark := make([]int, len(c.nodes))
	var visit func(i int, path []int) bool
	visit = func(i int, path []int) bool {
		switch mark[i] {
		case done:
			return true
		case busy:
			c.cycleError(append(path, i), "use")
			return false
		}
		mark[i] = busy
		dst := c.nodes[i]
		for _, l := range c.uses[i] {
			if !visit(l.src, append(path, i)) {
				return false
			}
			src := c.nodes[l.src].st
			for _, k := range src.ArgOrder {
				if k == kwName {
					continue
				}
				if _, set := dst.st.Args[k]; set {
					continue
				}
				dst.st.Args[k] = src.Args[k]
				dst.st.ArgOrder = append(dst.st.ArgOrder, k)
				dst.argLine[k], dst.argFile[k] = l.ref.line, l.ref.file
			}
		}
		mark[i] = done
		return true
	}
	for i := range c.nodes {
		if len(c.uses[i]) > 0 && !visit(i, nil) {
			return false
		}
	}
	return true
}
