package incusconn

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/statectl/statectl/runner/roster"
)

// target is a resolved connection recipe.
type target struct {
	name      string
	endpoints []endpoint
	creds     creds
	project   string
}

// DefaultConfigDir is the incus CLI configuration directory: $INCUS_CONF,
// else $HOME/.config/incus (the CLI's own rule).
func DefaultConfigDir() string {
	if d := os.Getenv("INCUS_CONF"); d != "" {
		return d
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".config", "incus")
}

// DefaultSocket is the local daemon's socket as the client library finds
// it: $INCUS_SOCKET, $INCUS_DIR/unix.socket, /run/incus or /var/lib/incus.
func DefaultSocket() string {
	if s := os.Getenv("INCUS_SOCKET"); s != "" {
		return s
	}
	if d := os.Getenv("INCUS_DIR"); d != "" {
		return filepath.Join(d, "unix.socket")
	}
	if _, err := os.Lstat("/run/incus/unix.socket"); err == nil {
		return "/run/incus/unix.socket"
	}
	return "/var/lib/incus/unix.socket"
}

func resolve(r *roster.Roster, name, configDir string) (*target, error) {
	if r != nil {
		if e, ok := r.Get(name); ok {
			return fromEntry(r.File, name, e, configDir)
		}
	}
	cfgPath := filepath.Join(configDir, "config.yml")
	cfg, err := loadCLIConfig(cfgPath)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if cfg != nil {
		if rem, ok := cfg.Remotes[name]; ok {
			return fromRemote(name, rem, configDir)
		}
	}
	where := "no roster"
	if r != nil {
		where = "roster " + r.File
	}
	return nil, fmt.Errorf("failed to connect to %s: not in %s and not an incus remote in %s", name, where, cfgPath)
}

func fromEntry(rosterFile, name string, e *roster.Entry, configDir string) (*target, error) {
	base := ""
	if rosterFile != "" {
		base = filepath.Dir(rosterFile)
	}
	// Relative paths in a roster are relative to the roster file.
	path := func(p string) string {
		if p == "" {
			return ""
		}
		if rest, ok := strings.CutPrefix(p, "~/"); ok {
			if home, err := os.UserHomeDir(); err == nil {
				return filepath.Join(home, rest)
			}
		}
		if !filepath.IsAbs(p) && base != "" {
			return filepath.Join(base, p)
		}
		return p
	}
	t := &target{name: name}
	if e.Socket != "" {
		t.endpoints = append(t.endpoints, endpoint{socket: path(e.Socket)})
	}
	for _, raw := range append([]string{e.URL}, e.Addresses...) {
		if raw == "" {
			continue
		}
		ep, err := parseEndpoint(raw)
		if err != nil {
			return nil, fmt.Errorf("failed to connect to %s: roster %s: %w", name, rosterFile, err)
		}
		if ep.socket != "" {
			ep.socket = path(ep.socket)
		}
		t.endpoints = append(t.endpoints, ep)
	}
	if len(t.endpoints) == 0 {
		return nil, fmt.Errorf("failed to connect to %s: roster %s: the entry has neither socket nor url", name, rosterFile)
	}
	switch e.AuthType {
	case "", "tls":
	case "oidc":
		if e.Socket != "" {
			return nil, fmt.Errorf("failed to connect to %s: roster %s: auth_type oidc needs a url (the unix socket needs no authentication)", name, rosterFile)
		}
		t.creds = creds{oidc: true, oidcTokens: path(e.OIDCTokens), serverCert: path(e.ServerCert)}
		if t.creds.oidcTokens == "" {
			t.creds.oidcTokens = filepath.Join(configDir, "oidctokens", name+".json")
		}
		return t, nil
	default:
		return nil, fmt.Errorf("failed to connect to %s: roster %s: auth_type %q: want tls or oidc", name, rosterFile, e.AuthType)
	}
	if (e.ClientCert == "") != (e.ClientKey == "") {
		return nil, fmt.Errorf("failed to connect to %s: roster %s: client_cert and client_key must be given together", name, rosterFile)
	}
	t.creds = creds{clientCert: path(e.ClientCert), clientKey: path(e.ClientKey), serverCert: path(e.ServerCert)}
	if t.creds.clientCert == "" {
		t.creds.clientCert, t.creds.clientKey, t.creds.defaulted = defaultClientCert(configDir)
	}
	return t, nil
}

// defaultClientCert is the incus CLI's client certificate, when both files
// exist.
func defaultClientCert(configDir string) (cert, key string, ok bool) {
	if configDir == "" {
		return "", "", false
	}
	cert, key = filepath.Join(configDir, "client.crt"), filepath.Join(configDir, "client.key")
	if fileExists(cert) && fileExists(key) {
		return cert, key, true
	}
	return "", "", false
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// parseEndpoint accepts https://host[:port], host[:port] (https implied,
// port 8443 by default) and unix:///path.
func parseEndpoint(raw string) (endpoint, error) {
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return endpoint{}, fmt.Errorf("invalid address %q: %w", raw, err)
	}
	switch u.Scheme {
	case "unix":
		p := u.Path
		if p == "" {
			p = DefaultSocket()
		}
		return endpoint{socket: p}, nil
	case "https":
	default:
		return endpoint{}, fmt.Errorf("invalid address %s: scheme %q is not supported (use https:// or unix://)", u.Redacted(), u.Scheme)
	}
	if u.Host == "" {
		return endpoint{}, fmt.Errorf("invalid address %s: no host", u.Redacted())
	}
	if u.Port() == "" {
		u.Host = net.JoinHostPort(strings.Trim(u.Host, "[]"), "8443")
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	return endpoint{url: u.String()}, nil
}

// cliConfig is the part of the incus CLI's config.yml statectl reads.
type cliConfig struct {
	DefaultRemote string               `yaml:"default-remote"`
	Remotes       map[string]cliRemote `yaml:"remotes"`
}

type cliRemote struct {
	Addr     string `yaml:"addr"`
	AuthType string `yaml:"auth_type"`
	Project  string `yaml:"project"`
	Protocol string `yaml:"protocol"`
	Public   bool   `yaml:"public"`
}

func loadCLIConfig(path string) (*cliConfig, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("failed to read incus config %s: %w", path, err)
	}
	var c cliConfig
	if err := yaml.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("failed to parse incus config %s: %w", path, err)
	}
	return &c, nil
}

// Remotes lists the incus CLI remotes that speak the incus protocol
// (image servers excluded), sorted.
func Remotes(configDir string) ([]string, error) {
	if configDir == "" {
		configDir = DefaultConfigDir()
	}
	cfg, err := loadCLIConfig(filepath.Join(configDir, "config.yml"))
	if err != nil {
		return nil, err
	}
	var names []string
	for n, r := range cfg.Remotes {
		if r.Protocol == "" || r.Protocol == "incus" {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names, nil
}

func fromRemote(name string, r cliRemote, configDir string) (*target, error) {
	if r.Protocol != "" && r.Protocol != "incus" {
		return nil, fmt.Errorf("failed to connect to %s: incus remote %s uses protocol %q (an image server), not incus", name, name, r.Protocol)
	}
	if r.AuthType != "" && r.AuthType != "tls" && r.AuthType != "oidc" {
		return nil, fmt.Errorf("failed to connect to %s: incus remote %s uses auth_type %q; statectl supports tls and oidc", name, name, r.AuthType)
	}
	ep, err := parseEndpoint(r.Addr)
	if err != nil {
		return nil, fmt.Errorf("failed to connect to %s: incus remote %s: %w", name, name, err)
	}
	t := &target{name: name, endpoints: []endpoint{ep}, project: r.Project}
	if r.AuthType == "oidc" {
		// The token file the incus CLI keeps for this remote.
		t.creds = creds{oidc: true, oidcTokens: filepath.Join(configDir, "oidctokens", name+".json")}
	} else {
		t.creds.clientCert, t.creds.clientKey, t.creds.defaulted = defaultClientCert(configDir)
	}
	if sc := filepath.Join(configDir, "servercerts", name+".crt"); fileExists(sc) {
		t.creds.serverCert = sc
	}
	return t, nil
}
