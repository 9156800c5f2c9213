package plain

import (
	"reflect"
	"testing"
)

func TestOf(t *testing.T) {
	type pair struct {
		A int      `json:"a"`
		B []string `json:"b"`
	}
	tests := []struct {
		name string
		in   any
		want any
		ok   bool
	}{
		{"scalar kept", 7, 7, true},
		{"struct", pair{A: 3, B: []string{"x"}}, map[string]any{"a": int64(3), "b": []any{"x"}}, true},
		{"typed map", map[string]float64{"f": 1.5, "i": 2}, map[string]any{"f": 1.5, "i": int64(2)}, true},
		{"big number", []uint64{1 << 63}, []any{float64(1 << 63)}, true},
		{"not encodable", make(chan int), nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Of(tt.in)
			if ok != tt.ok || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Of(%v) = %#v, %v; want %#v, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}
