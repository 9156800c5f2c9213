package render

import (
	"cmp"
	"slices"
	"strings"
)

// pyDict is a template dict. It is a Go map so gonja's generic code
// (length, "in", truthiness, item lookup) works on it unchanged; each
// entry carries the sequence number of its insertion so the dict iterates,
// prints and serialises in insertion order as Python 3.7+ dicts do.
// Everything that walks a pyDict in order goes through keys().
//
// Entries converted from Go maps (opts, and pillar or grains without a
// KeyOrder: plain Go data has no order) all have seq 0 and order by key
// among themselves; keys inserted later come after them. Pillar and grains
// with a KeyOrder are inserted in that order (toPyOrdered).
type pyDict map[string]dictEntry

type dictEntry struct {
	seq uint64
	v   any
}

func newDict(n int) pyDict { return make(pyDict, n) }

// get returns the value under k.
func (d pyDict) get(k string) (any, bool) {
	e, ok := d[k]
	return e.v, ok
}

// set is Python's d[k] = v: an existing key keeps its position.
func (d pyDict) set(k string, v any) {
	if e, ok := d[k]; ok {
		e.v = v
		d[k] = e
		return
	}
	// Every ordered entry's seq is at most len(d) (del keeps that), so
	// the new length is above them all: no counter shared between dicts.
	d[k] = dictEntry{seq: uint64(len(d) + 1), v: v}
}

// del is Python's del d[k]. It renumbers the ordered entries 1..n in
// their order, keeping every seq at most len(d) for set.
func (d pyDict) del(k string) {
	if _, ok := d[k]; !ok {
		return
	}
	delete(d, k)
	n := uint64(0)
	for _, k := range d.keys() {
		if e := d[k]; e.seq != 0 {
			n++
			e.seq = n
			d[k] = e
		}
	}
}

// setUnordered adds k with seq 0, for data converted from Go maps.
func (d pyDict) setUnordered(k string, v any) { d[k] = dictEntry{v: v} }

// keys lists the keys in iteration order.
func (d pyDict) keys() []string {
	type sk struct {
		seq uint64
		k   string
	}
	s := make([]sk, 0, len(d))
	ordered := false
	for k, e := range d {
		s = append(s, sk{e.seq, k})
		ordered = ordered || e.seq != 0
	}
	if ordered {
		slices.SortFunc(s, func(a, b sk) int {
			if c := cmp.Compare(a.seq, b.seq); c != 0 {
				return c
			}
			return strings.Compare(a.k, b.k)
		})
	} else {
		slices.SortFunc(s, func(a, b sk) int { return strings.Compare(a.k, b.k) })
	}
	keys := make([]string, len(s))
	for i, e := range s {
		keys[i] = e.k
	}
	return keys
}

// sortedKeys lists the keys sorted, for the serialisers that sort
// (Salt's json filter, PyYAML's safe_dump).
func (d pyDict) sortedKeys() []string {
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// copyDict is dict.copy(): the same order, values shared.
func (d pyDict) copyDict() pyDict {
	c := make(pyDict, len(d))
	for k, e := range d {
		c[k] = e
	}
	return c
}

// keyList is iter(d) as a template list: the keys in order.
func (d pyDict) keyList() *pyList {
	keys := d.keys()
	l := make(pyList, len(keys))
	for i, k := range keys {
		l[i] = k
	}
	return &l
}
