package incusconn

import (
	"context"
	"fmt"
)

// ServerGrains returns what grains["incus"] holds, from the GET /1.0 answer
// read while connecting (c.Info; read again only when a Conn has none):
// server_name, version, api_version, clustered, addresses, auth,
// certificate_fingerprint, os_name, os_version, kernel_version, storage,
// project, endpoint, and the member's core/cluster https addresses when
// set. Lists are []any, as YAML-decoded values are. Config values other
// than the two addresses are left out: some keys hold secrets.
func ServerGrains(ctx context.Context, c *Conn) (map[string]any, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("failed to read grains of %s at %s: %w", c.Target, c.Endpoint, err)
	}
	s := c.Info
	if s == nil {
		var err error
		if s, _, err = c.Server.GetServer(); err != nil {
			return nil, fmt.Errorf("failed to read grains of %s at %s: %w", c.Target, c.Endpoint, err)
		}
	}
	env := s.Environment
	addrs := make([]any, len(env.Addresses))
	for i, a := range env.Addresses {
		addrs[i] = a
	}
	g := map[string]any{
		"server_name":             env.ServerName,
		"version":                 env.ServerVersion,
		"api_version":             s.APIVersion,
		"clustered":               env.ServerClustered,
		"addresses":               addrs,
		"auth":                    s.Auth,
		"certificate_fingerprint": env.CertificateFingerprint,
		"os_name":                 env.OSName,
		"os_version":              env.OSVersion,
		"kernel_version":          env.KernelVersion,
		"storage":                 env.Storage,
		"project":                 env.Project,
		"endpoint":                c.Endpoint,
	}
	for key, grain := range map[string]string{"core.https_address": "https_address", "cluster.https_address": "cluster_address"} {
		if v := s.Config[key]; v != "" {
			g[grain] = v
		}
	}
	return g, nil
}
