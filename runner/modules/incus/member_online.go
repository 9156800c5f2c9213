package incus

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/lxc/incus/v6/shared/api"

	"github.com/statectl/statectl/runner/incusconn"
	"github.com/statectl/statectl/runner/module"
)

// cluster_member_online waits, bounded, until a member is back: listed
// Online or Evacuated (a restarted evacuated member stays Evacuated) by the
// cluster, and answering its cluster address. It is the step after an
// upgrade or a restart in incus/maintenance.sls; an online member is a
// no-op, so a re-run changes nothing.

// defaultOnlineWait bounds the wait for a member to come back.
const defaultOnlineWait = 300

// onlinePoll is the time between two looks at the member.
var onlinePoll = time.Second

var clusterMemberOnline = &function{
	spec: module.FuncSpec{
		Name: "cluster_member_online",
		Doc: "Wait until cluster member `name` is back online: listed Online (or Evacuated) by the cluster and answering " +
			"its cluster address, e.g. after an upgrade or a restart. An online member is a no-op; the wait is bounded by `wait`.",
		Args: []module.ArgSpec{
			maintArgs[0], maintArgs[1],
			{Name: "wait", Type: module.TypeInt, Default: defaultOnlineWait, Doc: "Seconds to wait for the member before the state fails."},
		},
	},
	decode: decodeMaint(false, defaultOnlineWait),
	plan:   planOnline,
	apply:  applyOnline,
}

// memberUp says whether name is online, else why not.
func (m *Module) memberUp(ctx context.Context, c *call, candidates []string) (bool, string) {
	view, notes := m.findCluster(ctx, candidates)
	if view == nil {
		return false, "no member answered: " + strings.Join(notes, "; ")
	}
	mem, _, err := incusconn.ReadMember(view.srv, c.Name)
	if err != nil {
		return false, err.Error()
	}
	if mem == nil {
		return false, fmt.Sprintf("%s is not a member of the cluster of %s", c.Name, view.via)
	}
	if why, down := probeMembers(ctx, []api.ClusterMember{*mem}, "", "").down[c.Name]; down {
		return false, fmt.Sprintf("%s is %s", c.Name, why)
	}
	return true, ""
}

func onlineCandidates(c *call) ([]string, error) {
	tgt, err := targetName(c)
	if err != nil {
		return nil, err
	}
	// The other members first: the member waited for may be the target.
	args := c.args.(*maintArgsT)
	return append(append([]string{}, args.cluster...), c.Name, tgt), nil
}

func planOnline(ctx context.Context, m *Module, c *call) (*module.Plan, error) {
	candidates, err := onlineCandidates(c)
	if err != nil {
		return nil, err
	}
	if up, _ := m.memberUp(ctx, c, candidates); up {
		return &module.Plan{Comment: fmt.Sprintf("Cluster member %s is online", c.Name)}, nil
	}
	args := c.args.(*maintArgsT)
	return &module.Plan{Action: module.Update, Changes: map[string]any{"online": change(false, true)},
		Comment: fmt.Sprintf("Would wait up to %s for cluster member %s to be online", args.wait, c.Name)}, nil
}

func applyOnline(ctx context.Context, m *Module, c *call, p *module.Plan) (*module.Outcome, error) {
	candidates, err := onlineCandidates(c)
	if err != nil {
		return nil, err
	}
	args := c.args.(*maintArgsT)
	start := time.Now()
	wctx, cancel := context.WithTimeout(ctx, args.wait)
	defer cancel()
	for {
		up, why := m.memberUp(wctx, c, candidates)
		if up {
			return &module.Outcome{Changes: p.Changes, Comment: fmt.Sprintf("Cluster member %s is online after %s", c.Name, time.Since(start).Round(time.Millisecond))}, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-wctx.Done():
			return &module.Outcome{Failed: true, Comment: fmt.Sprintf("Cluster member %s is not online after %s: %s", c.Name, args.wait, why)}, nil
		case <-time.After(onlinePoll):
		}
	}
}
