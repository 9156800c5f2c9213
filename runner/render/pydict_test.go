package render

import (
	"fmt"
	"slices"
	"sync"
	"testing"
)

func TestPyDictOrder(t *testing.T) {
	cases := []struct {
		name string
		ops  func(d pyDict)
		want []string
	}{
		{"insertion", func(d pyDict) { d.set("z", 1); d.set("a", 2); d.set("m", 3) }, []string{"z", "a", "m"}},
		{"update keeps place", func(d pyDict) { d.set("z", 1); d.set("a", 2); d.set("z", 3) }, []string{"z", "a"}},
		{"delete and re-add goes last", func(d pyDict) {
			d.set("z", 1)
			d.set("a", 2)
			d.del("z")
			d.set("z", 3)
		}, []string{"a", "z"}},
		// Sequence numbers are per dict (no process-wide counter): after a
		// delete, a new key still goes after every remaining one.
		{"delete first then add", func(d pyDict) {
			d.set("z", 1)
			d.set("y", 2)
			d.set("x", 3)
			d.del("z")
			d.set("a", 4)
			d.set("b", 5)
		}, []string{"y", "x", "a", "b"}},
		{"go map data sorted, then added keys", func(d pyDict) {
			d.setUnordered("z", 1)
			d.setUnordered("b", 2)
			d.set("a", 3)
			d.set("b", 4)
		}, []string{"b", "z", "a"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := newDict(0)
			c.ops(d)
			if got := d.keys(); !slices.Equal(got, c.want) {
				t.Errorf("keys() = %v, want %v", got, c.want)
			}
			if got := d.copyDict().keys(); !slices.Equal(got, c.want) {
				t.Errorf("copy keys() = %v, want %v", got, c.want)
			}
		})
	}
}

// Dicts filled concurrently (one per goroutine, as in parallel renders)
// each keep their own insertion order.
func TestPyDictOrderConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	dicts := make([]pyDict, 8)
	for i := range dicts {
		dicts[i] = newDict(0)
		wg.Add(1)
		go func(d pyDict) {
			defer wg.Done()
			for j := 999; j >= 0; j-- {
				d.set(fmt.Sprintf("k%04d", j), j)
			}
		}(dicts[i])
	}
	wg.Wait()
	for _, d := range dicts {
		keys := d.keys()
		for j, k := range keys {
			if want := fmt.Sprintf("k%04d", 999-j); k != want {
				t.Fatalf("key %d = %s, want %s", j, k, want)
			}
		}
	}
}

// ToValue (plain Go data for callers) and the template loader agree on
// values; the template loader keeps the document's order, merged keys first.
func TestYAMLLoadOrder(t *testing.T) {
	src := "z: 1\na: {y: 2, b: 3}\nbase: &b {k2: 1, k1: 2}\nm:\n  <<: *b\n  k0: 3\n  k1: 9\n"
	v, err := loadYAMLString("t.yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	want := "{'z': 1, 'a': {'y': 2, 'b': 3}, 'base': {'k2': 1, 'k1': 2}, 'm': {'k2': 1, 'k0': 3, 'k1': 9}}"
	if got := pyRepr(v); got != want {
		t.Errorf("loaded %s, want %s", got, want)
	}
	n, err := parseYAML("t.yaml", "", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := ToValue(n)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := pyRepr(plain), "{'a': {'b': 3, 'y': 2}, 'base': {'k1': 2, 'k2': 1}, 'm': {'k0': 3, 'k1': 9, 'k2': 1}, 'z': 1}"; got != want {
		t.Errorf("ToValue gave %s, want %s", got, want)
	}
}
