package lab

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	localtls "github.com/lxc/incus/v6/shared/tls"
	"gopkg.in/yaml.v3"
)

func fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

// writeClientCert creates DIR/client.crt and DIR/client.key (0600); Up
// trusts it on every member through the unix socket, the same as
// `incus config trust add-certificate` would.
func (l *Lab) writeClientCert() error {
	cert, key, err := localtls.GenerateMemCert(true, false)
	if err != nil {
		return fmt.Errorf("failed to generate the lab client certificate: %w", err)
	}
	l.ClientCert = filepath.Join(l.Dir, "client.crt")
	l.ClientKey = filepath.Join(l.Dir, "client.key")
	if err := writeFileAtomic(l.ClientKey, key, 0o600); err != nil {
		return err
	}
	return writeFileAtomic(l.ClientCert, cert, 0o644)
}

// WriteRoster writes DIR/roster.yaml: one entry per member, reached by its
// socket, with grains ipv4 and roles.
func (l *Lab) WriteRoster() error {
	root := mapping()
	for _, m := range l.Members {
		grains := mapping(
			"ipv4", seq(m.IP()),
			"roles", seq("incus"),
			"incus_address", scalar(m.Address),
		)
		root.Content = append(root.Content, scalar(m.Name), mapping(
			"socket", scalar(m.Socket),
			"grains", grains,
		))
	}
	return writeYAML(l.RosterPath(), "# Written by statectl lab up: one entry per lab daemon.\n", root)
}

// PillarSpec is the cluster a lab pillar describes. DefaultPillar fills it
// from a lab; adjust it and call WritePillar to change the shape.
type PillarSpec struct {
	// ClusterName names the cluster (informational).
	ClusterName string
	// Bootstrap is the member that creates the cluster.
	Bootstrap string
	// Members are the cluster members in order, bootstrap included.
	Members []PillarMember
	// ServerConfig is incus:server_settings:config (cluster-wide keys).
	ServerConfig map[string]string
}

// PillarMember is one incus:cluster_members entry.
type PillarMember struct {
	Name        string
	Address     string
	Description string
}

// DefaultPillar describes all lab members as one cluster bootstrapped by
// node1. images.auto_update_interval=0 keeps the lab off the network.
func DefaultPillar(l *Lab) PillarSpec {
	s := PillarSpec{
		ClusterName:  "statectl-lab",
		ServerConfig: map[string]string{"images.auto_update_interval": "0"},
	}
	for i, m := range l.Members {
		if i == 0 {
			s.Bootstrap = m.Name
		}
		s.Members = append(s.Members, PillarMember{Name: m.Name, Address: m.Address, Description: "statectl lab member " + m.Name})
	}
	return s
}

// WritePillar writes DIR/top.sls (incus for every target) and DIR/incus.sls:
//
//	incus:
//	  cluster:
//	    name: statectl-lab
//	    bootstrap: node1
//	    address: 127.0.0.11:8443        # the bootstrap member's address
//	  cluster_members:
//	    node1: {address: 127.0.0.11:8443, description: ...}
//	    node2: {address: 127.0.0.12:8443, description: ...}
//	  server_settings:
//	    config: {images.auto_update_interval: "0"}
func WritePillar(dir string, s PillarSpec) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("failed to create pillar dir: %w", err)
	}
	top := mapping("base", mapping("*", seq("incus")))
	if err := writeYAML(filepath.Join(dir, "top.sls"), "# Written by statectl lab up.\n", top); err != nil {
		return err
	}

	cluster := mapping("name", scalar(s.ClusterName), "bootstrap", scalar(s.Bootstrap))
	members := mapping()
	for _, m := range s.Members {
		if m.Name == s.Bootstrap {
			cluster.Content = append(cluster.Content, scalar("address"), scalar(m.Address))
		}
		e := mapping("address", scalar(m.Address))
		if m.Description != "" {
			e.Content = append(e.Content, scalar("description"), scalar(m.Description))
		}
		members.Content = append(members.Content, scalar(m.Name), e)
	}
	cfg := mapping()
	keys := make([]string, 0, len(s.ServerConfig))
	for k := range s.ServerConfig {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		// Incus config values are strings: quote them so "0" stays a string.
		v := scalar(s.ServerConfig[k])
		v.Style = yaml.DoubleQuotedStyle
		cfg.Content = append(cfg.Content, scalar(k), v)
	}
	doc := mapping("incus", mapping(
		"cluster", cluster,
		"cluster_members", members,
		"server_settings", mapping("config", cfg),
	))
	return writeYAML(filepath.Join(dir, "incus.sls"), "# Written by statectl lab up: the lab cluster, in the shape states/incus reads.\n", doc)
}

func scalar(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: s} }

func seq(items ...string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode}
	for _, it := range items {
		n.Content = append(n.Content, scalar(it))
	}
	return n
}

// mapping builds an ordered mapping from key, *yaml.Node pairs.
func mapping(kv ...any) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode}
	for i := 0; i+1 < len(kv); i += 2 {
		n.Content = append(n.Content, scalar(kv[i].(string)), kv[i+1].(*yaml.Node))
	}
	return n
}

func writeYAML(path, header string, n *yaml.Node) error {
	var buf bytes.Buffer
	buf.WriteString(header)
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		return fmt.Errorf("failed to encode %s: %w", path, err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("failed to encode %s: %w", path, err)
	}
	return writeFileAtomic(path, buf.Bytes(), 0o644)
}
