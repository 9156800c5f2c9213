// Package config reads statectl.yaml, which sets flag defaults for a
// project directory the way Salt's Saltfile does: keys are long flag names
// (states, pillar, roster, out, state-output, no-color, test, ...).
package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"
)

// DefaultFile is looked up in the working directory.
const DefaultFile = "statectl.yaml"

// Setting is one key of the file, with its value as a flag would take it.
type Setting struct {
	Key   string
	Value string
	Line  int
}

// File is a parsed statectl.yaml; Settings keep file order.
type File struct {
	Path     string
	Settings []Setting
	// Plugins is the plugins key (not a flag): per plugin settings.
	Plugins map[string]Plugin
}

// Load reads path. A missing file is not an error: it yields an empty File.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return &File{Path: path}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("failed to read %s: %w", path, err)
	}
	return Parse(path, data)
}

// Parse parses the file's YAML: a mapping of flag names to scalars. Lists
// and mappings (e.g. pillar-override) are passed on as JSON.
func Parse(path string, data []byte) (*File, error) {
	f := &File{Path: path}
	if len(bytes.TrimSpace(data)) == 0 {
		return f, nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("failed to parse %s: %w", path, err)
	}
	if len(doc.Content) == 0 {
		return f, nil
	}
	top := doc.Content[0]
	if top.Kind == yaml.ScalarNode && top.Tag == "!!null" {
		return f, nil
	}
	if top.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("failed to parse %s: line %d: must be a mapping of flag names to values", path, top.Line)
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := top.Content[i], top.Content[i+1]
		if prev, ok := seen[k.Value]; ok {
			return nil, fmt.Errorf("failed to parse %s: line %d: key %q already set on line %d", path, k.Line, k.Value, prev)
		}
		seen[k.Value] = k.Line
		if k.Value == PluginsKey {
			plugins, err := parsePlugins(path, v)
			if err != nil {
				return nil, err
			}
			f.Plugins = plugins
			continue
		}
		val, err := value(v)
		if err != nil {
			return nil, fmt.Errorf("failed to parse %s: line %d: %q: %w", path, v.Line, k.Value, err)
		}
		f.Settings = append(f.Settings, Setting{Key: k.Value, Value: val, Line: k.Line})
	}
	return f, nil
}

func value(n *yaml.Node) (string, error) {
	if n.Kind == yaml.ScalarNode {
		if n.Tag == "!!null" {
			return "", nil
		}
		return n.Value, nil
	}
	var v any
	if err := n.Decode(&v); err != nil {
		return "", err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// Apply sets every flag of fs named in f that was not given on the command
// line, so the command line always wins. A relative path given to a flag
// that takes a `FILE` or `DIR` resolves against the file's directory, not
// the current one, so `statectl --config proj/statectl.yaml` finds
// proj/states wherever it is run from. Keys that name no flag, or name
// one listed in deny (flags that make no sense in the file, like config
// itself), are errors naming the file and line.
func (f *File) Apply(fs *pflag.FlagSet, deny ...string) error {
	denied := map[string]bool{}
	for _, d := range deny {
		denied[d] = true
	}
	for _, s := range f.Settings {
		fl := fs.Lookup(s.Key)
		if fl == nil || denied[s.Key] || fl.Hidden {
			// Salt's Saltfile spells options with underscores.
			alt := strings.ReplaceAll(strings.ToLower(s.Key), "_", "-")
			if g := fs.Lookup(alt); g != nil && !denied[alt] && !g.Hidden {
				return fmt.Errorf("%s:%d: unknown key %q (did you mean %q?)", f.Path, s.Line, s.Key, alt)
			}
			return fmt.Errorf("%s:%d: unknown key %q (known: %s)", f.Path, s.Line, s.Key, strings.Join(known(fs, denied), ", "))
		}
		if fl.Changed {
			continue
		}
		if err := fs.Set(s.Key, f.resolvePath(fl, s.Value)); err != nil {
			return fmt.Errorf("%s:%d: invalid value %q for %q: %s", f.Path, s.Line, s.Value, s.Key, want(fl, err))
		}
	}
	return nil
}

func known(fs *pflag.FlagSet, denied map[string]bool) []string {
	var names []string
	fs.VisitAll(func(fl *pflag.Flag) {
		if !denied[fl.Name] && !fl.Hidden {
			names = append(names, fl.Name)
		}
	})
	sort.Strings(names)
	return names
}

// want says what a flag accepts, in place of strconv's wording.
func want(fl *pflag.Flag, err error) string {
	switch fl.Value.Type() {
	case "bool":
		return "want true or false"
	case "int":
		return "want a whole number"
	case "duration":
		return "want a duration such as 30s or 2m"
	}
	return err.Error()
}

// resolvePath joins a relative value of a FILE or DIR flag (its usage names
// the argument `FILE` or `DIR`) to the directory holding the file. "-"
// (standard output) and empty values are left alone.
func (f *File) resolvePath(fl *pflag.Flag, val string) string {
	name, _ := pflag.UnquoteUsage(fl)
	if name != "FILE" && name != "DIR" {
		return val
	}
	if val == "" || val == "-" || filepath.IsAbs(val) {
		return val
	}
	return filepath.Join(filepath.Dir(f.Path), val)
}
