package incus

import (
	"context"
	"fmt"

	"github.com/lxc/incus/v6/shared/api"

	"github.com/statectl/statectl/runner/module"
)

// cluster_enabled: bootstrap the target as the first member of a new
// cluster (`incus cluster enable NAME`).

var clusterEnabled = &function{
	spec: module.FuncSpec{
		Name: "cluster_enabled",
		Doc: "Make the target the first member `name` of a new cluster listening on `address` " +
			"(incus cluster enable). No-op when the target is already clustered under that name; " +
			"fails when it is clustered under another name or at another address.",
		Args: []module.ArgSpec{
			{Name: "name", Type: module.TypeString, Required: true, Doc: "Member name of the bootstrap server."},
			{Name: "address", Type: module.TypeString, Doc: "cluster.https_address (host[:port], default port 8443); default: the server's current cluster.https_address or core.https_address."},
		},
	},
	decode: decodeClusterEnabled,
	plan:   planClusterEnabled,
	apply:  applyClusterEnabled,
}

// enabledArgs are cluster_enabled's arguments.
type enabledArgs struct {
	address    string // normalised host:port
	hasAddress bool
}

func decodeClusterEnabled(c *module.Call) (any, error) {
	addr, hasAddr, err := argString(c.Args, "address")
	if err != nil {
		return nil, err
	}
	name, _, err := argString(c.Args, "name")
	if err != nil {
		return nil, err
	}
	if name == "" {
		return nil, fmt.Errorf("argument name: must not be empty")
	}
	a := &enabledArgs{hasAddress: hasAddr}
	if hasAddr {
		a.address = normAddress(addr)
	}
	return a, nil
}

type enabledPrivate struct {
	ServerETag  string `json:"server_etag"`
	ClusterETag string `json:"cluster_etag"`
	SetAddress  string `json:"set_address,omitempty"`
}

func planClusterEnabled(ctx context.Context, m *Module, c *call) (*module.Plan, error) {
	tgt, s, err := m.targetConn(ctx, c)
	if err != nil {
		return nil, err
	}
	info, err := readServer(s)
	if err != nil {
		return nil, err
	}
	args := c.args.(*enabledArgs)
	want, hasAddr := args.address, args.hasAddress
	cur := currentClusterAddress(info.config)

	if info.clustered {
		if info.name != c.Name {
			return &module.Plan{Fail: true, Comment: fmt.Sprintf(
				"%s is already clustered as member %s, not %s; the member name cannot change in place", tgt, info.name, c.Name)}, nil
		}
		if hasAddr && cur != want {
			return &module.Plan{Fail: true, Comment: fmt.Sprintf(
				"cluster member %s listens on %s, not %s; cluster.https_address cannot change once clustered", c.Name, cur, want)}, nil
		}
		return &module.Plan{Comment: fmt.Sprintf("Cluster already enabled with member %s at %s", c.Name, cur)}, nil
	}

	_, cetag, err := s.GetCluster()
	if err != nil {
		return nil, fmt.Errorf("failed to read cluster state: %w", err)
	}
	priv := enabledPrivate{ServerETag: info.etag, ClusterETag: cetag}
	changes := map[string]any{"cluster": change(nil, c.Name)}
	switch {
	case hasAddr && info.config["cluster.https_address"] != "" && normAddress(info.config["cluster.https_address"]) == want:
	case hasAddr && info.config["cluster.https_address"] == "" && cur == want:
		// core.https_address serves as the cluster address on bootstrap.
	case hasAddr:
		priv.SetAddress = want
		changes["cluster.https_address"] = change(orNil(info.config["cluster.https_address"]), want)
	case cur == "":
		return &module.Plan{Fail: true, Comment: fmt.Sprintf(
			"%s listens on no network address: give address (host[:port]) so other members can reach it", tgt)}, nil
	}
	return &module.Plan{
		Action:  module.Bootstrap,
		Changes: changes,
		Comment: fmt.Sprintf("Cluster would be enabled with bootstrap member %s", c.Name),
		Private: encodePrivate(priv),
	}, nil
}

func applyClusterEnabled(ctx context.Context, m *Module, c *call, p *module.Plan) (*module.Outcome, error) {
	var priv enabledPrivate
	if err := decodePrivate(p, &priv); err != nil {
		return nil, err
	}
	tgt, s, err := m.targetConn(ctx, c)
	if err != nil {
		return nil, err
	}
	changes := map[string]any{}
	if priv.SetAddress != "" {
		info, err := readServer(s)
		if err != nil {
			return nil, err
		}
		cfg := map[string]string{}
		for k, v := range info.config {
			cfg[k] = v
		}
		old := cfg["cluster.https_address"]
		cfg["cluster.https_address"] = priv.SetAddress
		// The plan's ETag, not the one just read: an edit since the plan
		// must fail with 412 rather than be overwritten.
		if err := s.UpdateServer(api.ServerPut{Config: cfg}, priv.ServerETag); err != nil {
			if isStale(err) {
				return &module.Outcome{Failed: true, Comment: errConcurrent("server config of " + tgt).Error()}, nil
			}
			return nil, fmt.Errorf("failed to set cluster.https_address: %w", err)
		}
		changes["cluster.https_address"] = change(orNil(old), priv.SetAddress)
	}

	op, err := s.UpdateCluster(api.ClusterPut{Cluster: api.Cluster{ServerName: c.Name, Enabled: true}}, priv.ClusterETag)
	if err == nil {
		err = waitOp(ctx, s, op)
	}
	// Re-read: errors lie (the bootstrap may have happened anyway).
	info, rerr := readServer(s)
	if rerr != nil {
		if err == nil {
			return nil, fmt.Errorf("enabled clustering but failed to re-read the server: %w", rerr)
		}
		return nil, fmt.Errorf("failed to enable clustering: %w (and re-reading failed: %v)", err, rerr)
	}
	if info.clustered && info.name == c.Name {
		changes["cluster"] = change(nil, c.Name)
		comment := fmt.Sprintf("Cluster enabled with bootstrap member %s at %s", c.Name, currentClusterAddress(info.config))
		if err != nil {
			comment += fmt.Sprintf(" (Incus reported: %v)", err)
		}
		return &module.Outcome{Changes: changes, Comment: comment}, nil
	}
	if isStale(err) {
		return &module.Outcome{Failed: true, Changes: changes, Comment: errConcurrent("cluster state of " + tgt).Error()}, nil
	}
	if err == nil {
		err = fmt.Errorf("server still reports clustered=%t name=%q", info.clustered, info.name)
	}
	return &module.Outcome{Failed: true, Changes: changes, Comment: fmt.Sprintf("Failed to enable clustering on %s: %v", tgt, err)}, nil
}

// currentClusterAddress is where the server listens for cluster traffic:
// cluster.https_address, else core.https_address.
func currentClusterAddress(cfg map[string]string) string {
	if a := cfg["cluster.https_address"]; a != "" {
		return normAddress(a)
	}
	if a := cfg["core.https_address"]; a != "" {
		return normAddress(a)
	}
	return ""
}
