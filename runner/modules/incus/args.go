package incus

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/lxc/incus/v6/shared/api"
)

// Arguments arrive as YAML-decoded values (string, int, bool, float64,
// []any, map[string]any). These helpers convert them with errors that name
// the argument, so Validate and Plan report the same message.

// argString returns a string argument; numbers and booleans are
// stringified the way Incus stores them. ok is false when the argument is
// absent or null.
func argString(args map[string]any, name string) (s string, ok bool, err error) {
	v, present := args[name]
	if !present || v == nil {
		return "", false, nil
	}
	s, err = scalarString(v)
	if err != nil {
		return "", false, fmt.Errorf("argument %s: %w", name, err)
	}
	return s, true, nil
}

// argBool returns a boolean argument (false when absent).
func argBool(args map[string]any, name string) (bool, error) {
	v, present := args[name]
	if !present || v == nil {
		return false, nil
	}
	switch b := v.(type) {
	case bool:
		return b, nil
	case string:
		if t, err := strconv.ParseBool(strings.ToLower(b)); err == nil {
			return t, nil
		}
	}
	return false, fmt.Errorf("argument %s: want a boolean, got %T", name, v)
}

// argStrings returns a string or a list of strings; ok is false when the
// argument is absent or null (unmanaged), true for an empty list.
func argStrings(args map[string]any, name string) (list []string, ok bool, err error) {
	v, present := args[name]
	if !present || v == nil {
		return nil, false, nil
	}
	switch t := v.(type) {
	case string:
		return []string{t}, true, nil
	case []string:
		return append([]string{}, t...), true, nil
	case []any:
		out := make([]string, 0, len(t))
		for i, e := range t {
			s, err := scalarString(e)
			if err != nil {
				return nil, false, fmt.Errorf("argument %s: item %d: %w", name, i, err)
			}
			out = append(out, s)
		}
		return out, true, nil
	}
	return nil, false, fmt.Errorf("argument %s: want a string or a list of strings, got %T", name, v)
}

// argConfig returns a config map; a null value means "unset this key" and
// is returned as nil. ok is false when the argument is absent.
func argConfig(args map[string]any, name string) (cfg map[string]*string, ok bool, err error) {
	v, present := args[name]
	if !present || v == nil {
		return nil, false, nil
	}
	m, isMap := v.(map[string]any)
	if !isMap {
		if ms, isStrMap := v.(map[string]string); isStrMap {
			m = map[string]any{}
			for k, s := range ms {
				m[k] = s
			}
		} else {
			return nil, false, fmt.Errorf("argument %s: want a mapping of keys to values, got %T", name, v)
		}
	}
	cfg = make(map[string]*string, len(m))
	for k, e := range m {
		if e == nil {
			cfg[k] = nil
			continue
		}
		s, err := scalarString(e)
		if err != nil {
			return nil, false, fmt.Errorf("argument %s: key %s: %w", name, k, err)
		}
		cfg[k] = &s
	}
	return cfg, true, nil
}

// argMemberConfig decodes member_config: a list of {entity, name, key,
// value} as in Incus preseed files.
func argMemberConfig(args map[string]any, name string) ([]api.ClusterMemberConfigKey, error) {
	v, present := args[name]
	if !present || v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("argument %s: want a list of {entity, name, key, value}, got %T", name, v)
	}
	out := make([]api.ClusterMemberConfigKey, 0, len(list))
	for i, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("argument %s: item %d: want a mapping with entity, name, key and value, got %T", name, i, e)
		}
		var k api.ClusterMemberConfigKey
		for field, dst := range map[string]*string{"entity": &k.Entity, "name": &k.Name, "key": &k.Key, "value": &k.Value} {
			s, _, err := argString(m, field)
			if err != nil {
				return nil, fmt.Errorf("argument %s: item %d: %w", name, i, err)
			}
			*dst = s
		}
		for field := range m {
			switch field {
			case "entity", "name", "key", "value", "description":
			default:
				return nil, fmt.Errorf("argument %s: item %d: unknown field %q (known: entity, name, key, value)", name, i, field)
			}
		}
		if k.Entity != "storage-pool" && k.Entity != "network" {
			return nil, fmt.Errorf("argument %s: item %d: entity must be storage-pool or network, got %q", name, i, k.Entity)
		}
		if k.Name == "" || k.Key == "" {
			return nil, fmt.Errorf("argument %s: item %d: name and key are required", name, i)
		}
		out = append(out, k)
	}
	return out, nil
}

// scalarString renders a YAML scalar as Incus stores it: booleans as
// "true"/"false", integers in decimal.
func scalarString(v any) (string, error) {
	switch t := v.(type) {
	case string:
		return t, nil
	case bool:
		return strconv.FormatBool(t), nil
	case int:
		return strconv.Itoa(t), nil
	case int64:
		return strconv.FormatInt(t, 10), nil
	case uint64:
		return strconv.FormatUint(t, 10), nil
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64), nil
	}
	return "", fmt.Errorf("want a scalar, got %T", v)
}

// sortedKeys returns m's keys in order, for deterministic output.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
