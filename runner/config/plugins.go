package config

import (
	"fmt"
	"regexp"

	"gopkg.in/yaml.v3"
)

// PluginsKey is the one key that is not a flag: per-plugin settings,
// keyed by module name:
//
//	plugins:
//	  file:
//	    sha256: 3b0c...e1
const PluginsKey = "plugins"

// Plugin is one plugin's settings.
type Plugin struct {
	// SHA256 pins the plugin executable: statectl refuses to run it when
	// its sha256 (hex) differs.
	SHA256 string
}

var sha256Hex = regexp.MustCompile(`^[0-9a-fA-F]{64}$`)

func parsePlugins(path string, n *yaml.Node) (map[string]Plugin, error) {
	bad := func(n *yaml.Node, format string, args ...any) error {
		return fmt.Errorf("failed to parse %s: line %d: %s: %s", path, n.Line, PluginsKey, fmt.Sprintf(format, args...))
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, bad(n, "must map plugin (module) names to settings, e.g. file: {sha256: ...}")
	}
	out := map[string]Plugin{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		name, v := n.Content[i], n.Content[i+1]
		if v.Kind != yaml.MappingNode {
			return nil, bad(v, "%s: must be a mapping such as {sha256: ...}", name.Value)
		}
		var p Plugin
		for j := 0; j+1 < len(v.Content); j += 2 {
			k, x := v.Content[j], v.Content[j+1]
			switch k.Value {
			case "sha256":
				if !sha256Hex.MatchString(x.Value) {
					return nil, bad(x, "%s: sha256 must be 64 hex digits (sha256sum prints them)", name.Value)
				}
				p.SHA256 = x.Value
			default:
				return nil, bad(k, "%s: unknown key %q (known: sha256)", name.Value, k.Value)
			}
		}
		out[name.Value] = p
	}
	return out, nil
}

// PluginPins returns the sha256 pins by module name.
func (f *File) PluginPins() map[string]string {
	pins := map[string]string{}
	for name, p := range f.Plugins {
		if p.SHA256 != "" {
			pins[name] = p.SHA256
		}
	}
	return pins
}
