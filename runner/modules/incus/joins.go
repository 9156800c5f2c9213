package incus

import (
	"context"
	"fmt"

	"github.com/statectl/statectl/runner/module"
)

// A server that joins a cluster keeps its member-local keys and takes the
// cluster's cluster-wide settings in place of its own. The settings
// functions planned for a target after its cluster_member_present in the
// same run must know about that join:
//   - in test mode the join is only predicted, so the settings plan would
//     otherwise compare against the standalone server's config and report
//     changes the real run never makes;
//   - when the join failed, writing settings to the standalone server is
//     pointless (the cluster's replace them on the next join) and hides
//     the failure behind a green state.
// The member state's plan sends the join (joinSend) and the engine hands
// its outcome to later calls (module.Call.Upstream): the module keeps no
// memory of it.

// joinOf finds the last cluster_member_present state of the run for the
// member name in up.
func joinOf(up []module.Upstream, name string) (module.Upstream, bool) {
	for i := len(up) - 1; i >= 0; i-- {
		u := up[i]
		if u.Module == "incus" && u.Function == clusterMemberPresent.spec.Name && u.Name == name {
			return u, true
		}
	}
	return module.Upstream{}, false
}

// afterJoin adjusts what a settings plan sees of an unclustered target
// (roster name tgt) that this run joins or failed to join. It returns the
// server as it will be once joined (nil: unchanged) and a note for the
// comment, or a failure message.
// Predictions are for test mode only: a real run plans after the join.
func (m *Module) afterJoin(ctx context.Context, c *call, tgt string, info *serverInfo) (joined *serverInfo, note, fail string, err error) {
	if info.clustered {
		return nil, "", "", nil
	}
	u, ok := joinOf(c.Upstream, tgt)
	if !ok {
		return nil, "", "", nil
	}
	if u.Status == module.Failed {
		return nil, "", fmt.Sprintf("%s failed to join its cluster in this run (its %s state failed): its server settings are left alone, because the cluster's settings replace them when it joins; fix the join and re-run", tgt, u.ID), nil
	}
	via, addr := u.Send["via"], u.Send["address"]
	if u.Status != module.Pending || u.Action != module.Join || via == "" || !c.Test {
		return nil, "", "", nil
	}
	vs, err := m.conn(ctx, via)
	if err != nil {
		return nil, "", "", err
	}
	vinfo, err := readServer(vs)
	if err != nil {
		return nil, "", "", fmt.Errorf("%s: %w", via, err)
	}
	cfg := map[string]string{}
	for k, v := range vinfo.config {
		if !memberLocalKeys[k] {
			cfg[k] = v
		}
	}
	for k, v := range info.config {
		if memberLocalKeys[k] {
			cfg[k] = v
		}
	}
	// A joiner listening nowhere is made to listen on its join address.
	if cfg["core.https_address"] == "" && cfg["cluster.https_address"] == "" && addr != "" {
		cfg["core.https_address"], cfg["cluster.https_address"] = addr, addr
	}
	joined = &serverInfo{clustered: true, name: tgt, config: cfg}
	return joined, fmt.Sprintf(" (once it has joined the cluster of %s, whose cluster-wide settings it takes)", via), "", nil
}
