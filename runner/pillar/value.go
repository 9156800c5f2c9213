package pillar

import (
	"fmt"

	"gopkg.in/yaml.v3"

	"github.com/statectl/statectl/runner/grains"
)

// toMap converts a rendered mapping node to plain values (int, float64,
// string, bool, nil, []any, map[string]any).
func toMap(n *yaml.Node) (map[string]any, error) {
	var v any
	if err := n.Decode(&v); err != nil {
		return nil, fmt.Errorf("failed to decode rendered data: %w", err)
	}
	m, ok := grains.Plain(v).(map[string]any)
	if !ok {
		return nil, fmt.Errorf("rendered data is not a mapping")
	}
	return m, nil
}
