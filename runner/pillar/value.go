package pillar

import (
	"fmt"

	"gopkg.in/yaml.v3"

	"github.com/statectl/statectl/runner/render"
)

// toMap converts a rendered mapping node to plain values with Salt's YAML
// 1.1 scalar rules (render.ToValue), and returns its key order.
func toMap(n *yaml.Node) (map[string]any, *render.KeyOrder, error) {
	v, order, err := render.ToOrderedValue(n)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to decode rendered data: %w", err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, nil, fmt.Errorf("rendered data is not a mapping")
	}
	return m, order, nil
}
