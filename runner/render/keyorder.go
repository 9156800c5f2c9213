package render

import (
	"slices"

	"gopkg.in/yaml.v3"
)

// KeyOrder is the key order of a value loaded from YAML: for a mapping its
// keys in document order and the orders of the values under them, for a
// list the orders of its elements. Go maps have no order, so pillar and
// grains travel as plain maps with a KeyOrder beside them; templates then
// iterate them in file order as Salt's Python dicts do.
//
// A nil *KeyOrder says nothing: keys come out sorted. Keys of a map that
// the order does not list come after the listed ones, sorted. A KeyOrder is
// not modified once built, so it may be shared.
type KeyOrder struct {
	Keys   []string             // a mapping's keys, in order
	Fields map[string]*KeyOrder // the order of the value under a key, when it holds a mapping
	Items  []*KeyOrder          // a list's elements' orders (nil entries for scalars)
}

// Field returns the order of the value under key k (nil when unknown).
func (o *KeyOrder) Field(k string) *KeyOrder {
	if o == nil {
		return nil
	}
	return o.Fields[k]
}

// Item returns the order of list element i (nil when unknown).
func (o *KeyOrder) Item(i int) *KeyOrder {
	if o == nil || i >= len(o.Items) {
		return nil
	}
	return o.Items[i]
}

// Ordered lists the keys of m: those o lists first, in its order, then the
// others sorted.
func (o *KeyOrder) Ordered(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	var listed map[string]bool
	if o != nil {
		listed = make(map[string]bool, len(o.Keys))
		for _, k := range o.Keys {
			if _, ok := m[k]; ok && !listed[k] {
				listed[k] = true
				keys = append(keys, k)
			}
		}
	}
	n := len(keys)
	for k := range m {
		if !listed[k] {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys[n:])
	return keys
}

// ToOrderedValue is ToValue that also returns the key order of the
// document's mappings (Salt's loader keeps it: Python dicts are ordered).
func ToOrderedValue(n *yaml.Node) (any, *KeyOrder, error) {
	v, err := toPyValue(n)
	if err != nil {
		return nil, nil, err
	}
	return toGo(v), orderOf(v), nil
}

// NodeOrder returns the key order of a YAML node's mappings, or nil when the
// node does not convert (the caller reports that error where it decodes).
func NodeOrder(n *yaml.Node) *KeyOrder {
	_, o, err := ToOrderedValue(n)
	if err != nil {
		return nil
	}
	return o
}

// orderOf reads the order of a template value (nil for scalars and for
// containers holding no mapping).
func orderOf(x any) *KeyOrder {
	switch v := x.(type) {
	case pyDict:
		o := &KeyOrder{Keys: v.keys()}
		for _, k := range o.Keys {
			if sub := orderOf(v[k].v); sub != nil {
				if o.Fields == nil {
					o.Fields = map[string]*KeyOrder{}
				}
				o.Fields[k] = sub
			}
		}
		return o
	case *pyList:
		return listOrder(*v)
	case pyTuple:
		return listOrder(v)
	}
	return nil
}

func listOrder(l []any) *KeyOrder {
	var items []*KeyOrder
	for i, e := range l {
		if sub := orderOf(e); sub != nil {
			if items == nil {
				items = make([]*KeyOrder, len(l))
			}
			items[i] = sub
		}
	}
	if items == nil {
		return nil
	}
	return &KeyOrder{Items: items}
}

// toPyOrdered is toPy for context data with a known key order: map keys
// are inserted in o's order (unlisted keys after, sorted), so the dicts
// iterate as the files they came from.
func toPyOrdered(x any, o *KeyOrder) any {
	if o == nil {
		return toPy(x)
	}
	switch v := x.(type) {
	case map[string]any:
		d := newDict(len(v))
		for _, k := range o.Ordered(v) {
			d.set(k, toPyOrdered(v[k], o.Field(k)))
		}
		return d
	case []any:
		l := make(pyList, len(v))
		for i, e := range v {
			l[i] = toPyOrdered(e, o.Item(i))
		}
		return &l
	}
	return toPy(x)
}
