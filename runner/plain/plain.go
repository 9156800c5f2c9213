// Package plain turns module data (structs, typed maps and slices) into
// the plain values every rendering and the secret masker walk:
// map[string]any, []any, string, bool, nil, int64 and float64.
package plain

import (
	"bytes"
	"encoding/json"
)

// Of reads v through JSON, numbers as int64 where they fit, else float64.
// ok is false when v is not JSON-encodable (a channel, a func).
func Of(v any) (out any, ok bool) {
	switch v.(type) {
	case nil, string, bool, int, int64, float64:
		return v, true
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil {
		return nil, false
	}
	return numbers(out), true
}

func numbers(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = numbers(e)
		}
	case []any:
		for i, e := range t {
			t[i] = numbers(e)
		}
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return i
		}
		if f, err := t.Float64(); err == nil {
			return f
		}
		return t.String()
	}
	return v
}
