// Package roster reads the roster file: one entry per target name, with
// connection fields and custom grains.
package roster

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/statectl/statectl/runner/render"
)

// Entry is one roster target.
type Entry struct {
	Name string `yaml:"-" json:"-"`
	// Socket is the unix socket of a local incusd.
	Socket string `yaml:"socket,omitempty" json:"socket,omitempty"`
	// URL is https://HOST:PORT of a remote incusd.
	URL string `yaml:"url,omitempty" json:"url,omitempty"`
	// Addresses are further URLs of the same cluster, tried in order when
	// URL does not answer within the connect timeout.
	Addresses  []string `yaml:"addresses,omitempty" json:"addresses,omitempty"`
	ClientCert string   `yaml:"client_cert,omitempty" json:"client_cert,omitempty"`
	ClientKey  string   `yaml:"client_key,omitempty" json:"client_key,omitempty"`
	ServerCert string   `yaml:"server_cert,omitempty" json:"server_cert,omitempty"`
	// Cluster names the cluster the target belongs to in a fleet roster:
	// targets of different clusters may run concurrently (--parallel),
	// those of one cluster never do. Also the target's `cluster` grain.
	Cluster string `yaml:"cluster,omitempty" json:"cluster,omitempty"`
	// AuthType is "tls" (default: client certificates) or "oidc".
	AuthType string `yaml:"auth_type,omitempty" json:"auth_type,omitempty"`
	// OIDCTokens is the OIDC token file (the incus CLI's format, as in
	// its oidctokens/REMOTE.json); it may hold only a refresh_token.
	// statectl rewrites it after a refresh.
	OIDCTokens string `yaml:"oidc_tokens,omitempty" json:"oidc_tokens,omitempty"`
	// Grains are custom grains; they override core grains.
	Grains map[string]any `yaml:"grains,omitempty" json:"grains,omitempty"`
	// GrainsOrder is the key order of Grains in the roster file, so
	// templates iterate them as written (render.Context.GrainsOrder).
	GrainsOrder *render.KeyOrder `yaml:"-" json:"-"`
}

// Roster is the parsed roster file.
type Roster struct {
	File    string
	Entries map[string]*Entry
}

// Load reads a roster file. A missing file yields an empty roster and
// os.ErrNotExist wrapped, so callers can decide whether it matters.
func Load(path string) (*Roster, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return &Roster{File: path, Entries: map[string]*Entry{}}, fmt.Errorf("failed to read roster %s: %w", path, err)
		}
		return nil, fmt.Errorf("failed to read roster %s: %w", path, err)
	}
	return Parse(path, data)
}

// Parse parses roster YAML; file is used in errors.
func Parse(file string, data []byte) (*Roster, error) {
	r := &Roster{File: file, Entries: map[string]*Entry{}}
	if len(bytes.TrimSpace(data)) == 0 {
		return r, nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("failed to parse roster %s: %w", file, err)
	}
	if len(doc.Content) == 0 {
		return r, nil
	}
	top := doc.Content[0]
	if top.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("failed to parse roster %s: line %d: the roster must be a mapping of target names to entries", file, top.Line)
	}
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := top.Content[i], top.Content[i+1]
		e := &Entry{Name: k.Value}
		if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
			r.Entries[k.Value] = e
			continue
		}
		if v.Kind != yaml.MappingNode {
			return nil, fmt.Errorf("failed to parse roster %s: line %d: entry %q must be a mapping", file, v.Line, k.Value)
		}
		dec := v
		if err := decodeStrict(dec, e); err != nil {
			return nil, fmt.Errorf("failed to parse roster %s: entry %q: %w", file, k.Value, err)
		}
		e.Name = k.Value
		if g := mappingValue(v, "grains"); g != nil {
			e.GrainsOrder = render.NodeOrder(g)
		}
		r.Entries[k.Value] = e
	}
	return r, nil
}

func mappingValue(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

var knownKeys = map[string]bool{"socket": true, "url": true, "addresses": true, "client_cert": true, "client_key": true, "server_cert": true, "grains": true, "cluster": true, "auth_type": true, "oidc_tokens": true}

// decodeStrict checks each key's shape before decoding, so a mistake is
// reported with its line and in the roster's terms rather than as a Go
// type error from the YAML library.
func decodeStrict(n *yaml.Node, e *Entry) error {
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !knownKeys[k.Value] {
			return fmt.Errorf("line %d: unknown key %q (known: addresses, auth_type, client_cert, client_key, cluster, grains, oidc_tokens, server_cert, socket, url)", k.Line, k.Value)
		}
		if err := checkField(k.Value, v); err != nil {
			return fmt.Errorf("line %d: %w", v.Line, err)
		}
	}
	return n.Decode(e)
}

func checkField(key string, v *yaml.Node) error {
	switch key {
	case "grains":
		if v.Kind != yaml.MappingNode && v.Tag != "!!null" {
			return fmt.Errorf("grains must be a mapping of grain names to values, e.g. grains: {roles: [incus]}")
		}
	case "addresses":
		if v.Kind != yaml.SequenceNode {
			return fmt.Errorf("addresses must be a list of https://HOST[:PORT] URLs")
		}
		for _, a := range v.Content {
			if a.Kind != yaml.ScalarNode {
				return fmt.Errorf("addresses must be a list of https://HOST[:PORT] URLs")
			}
			if err := checkURL(a.Value); err != nil {
				return fmt.Errorf("addresses: %w", err)
			}
		}
	default: // socket, url, certificates: one path or URL each
		if v.Kind != yaml.ScalarNode {
			return fmt.Errorf("%s must be a string", key)
		}
		if key == "url" {
			return checkURL(v.Value)
		}
	}
	return nil
}

// checkURL accepts https://HOST[:PORT] or a bare HOST[:PORT] (https is
// implied, as the incus CLI does).
func checkURL(s string) error {
	if i := strings.Index(s, "://"); i >= 0 && s[:i] != "https" {
		return fmt.Errorf("url %q: only https:// is supported (for a local daemon use socket: PATH)", s)
	}
	return nil
}

// Names lists the roster's target names, sorted.
func (r *Roster) Names() []string {
	names := make([]string, 0, len(r.Entries))
	for n := range r.Entries {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Get returns the entry for name.
func (r *Roster) Get(name string) (*Entry, bool) {
	e, ok := r.Entries[name]
	return e, ok
}

// HasEndpoint reports whether the entry names an Incus daemon (a socket or
// a URL); an entry without one (e.g. local) runs only local states.
func (e *Entry) HasEndpoint() bool { return e.Socket != "" || e.URL != "" }

// Connection returns the entry's connection fields as a map (grains
// excluded), the shape modules receive in module.Target.Roster.
func (e *Entry) Connection() map[string]any {
	m := map[string]any{}
	if e.Socket != "" {
		m["socket"] = e.Socket
	}
	if e.URL != "" {
		m["url"] = e.URL
	}
	if len(e.Addresses) > 0 {
		a := make([]any, len(e.Addresses))
		for i, s := range e.Addresses {
			a[i] = s
		}
		m["addresses"] = a
	}
	if e.ClientCert != "" {
		m["client_cert"] = e.ClientCert
	}
	if e.ClientKey != "" {
		m["client_key"] = e.ClientKey
	}
	if e.ServerCert != "" {
		m["server_cert"] = e.ServerCert
	}
	if e.AuthType != "" {
		m["auth_type"] = e.AuthType
	}
	if e.OIDCTokens != "" {
		m["oidc_tokens"] = e.OIDCTokens
	}
	return m
}
