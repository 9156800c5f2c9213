package module

import "fmt"

// StringArg returns args[key] as a string, def when absent or null. YAML
// may have typed a scalar as a number or a boolean; it is stringified.
func StringArg(args map[string]any, key, def string) string {
	v, ok := args[key]
	if !ok || v == nil {
		return def
	}
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprint(v)
}

// BoolArg returns args[key] as a bool, def when absent or not a bool
// (schema validation has already rejected other types).
func BoolArg(args map[string]any, key string, def bool) bool {
	if b, ok := args[key].(bool); ok {
		return b
	}
	return def
}
