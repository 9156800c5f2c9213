package pillar

import (
	"fmt"

	"gopkg.in/yaml.v3"

	"github.com/statectl/statectl/runner/render"
)

// toMap converts a rendered mapping node to plain values with Salt's YAML
// 1.1 scalar rules (render.ToValue).
func toMap(n *yaml.Node) (map[string]any, error) {
	v, err := render.ToValue(n)
	if err != nil {
		return nil, fmt.Errorf("failed to decode rendered data: %w", err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("rendered data is not a mapping")
	}
	return m, nil
}
