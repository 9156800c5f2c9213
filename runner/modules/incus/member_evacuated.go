package incus

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lxc/incus/v6/shared/api"

	"github.com/statectl/statectl/runner/incusconn"
	"github.com/statectl/statectl/runner/module"
)

// cluster_member_evacuated and cluster_member_restored: a member's
// maintenance state (incus cluster evacuate / restore). Incus forwards the
// request to the member itself, which must answer: a member that does not
// fails the plan fast with its name instead of holding the request.

// evacuateModes are Incus's evacuation modes (the cluster.evacuate
// instance key's values; "" and auto let each instance's key decide).
var evacuateModes = []string{"auto", "migrate", "live-migrate", "refresh-migrate", "stop", "stateful-stop", "force-stop"}

// defaultMaintWait bounds an evacuation or a restore.
const defaultMaintWait = 600

var maintArgs = []module.ArgSpec{
	{Name: "name", Type: module.TypeString, Required: true, Doc: "Member name."},
	{Name: "cluster", Type: module.TypeStringList, Doc: "Roster name(s) of members to reach the cluster through, tried in order; default: the target, then the member."},
	{Name: "wait", Type: module.TypeInt, Default: defaultMaintWait, Doc: "Seconds to wait for the operation to finish before the state fails (the operation goes on in Incus)."},
}

var clusterMemberEvacuated = &function{
	spec: module.FuncSpec{
		Name: "cluster_member_evacuated",
		Doc: "Ensure cluster member `name` is evacuated (incus cluster evacuate): its instances are moved to other " +
			"members or stopped, per `mode`. An evacuated member is a no-op; the plan lists the instances that would " +
			"move or stop. The member must be online: Incus forwards the request to it.",
		Args: append(append([]module.ArgSpec{}, maintArgs[0]), module.ArgSpec{
			Name: "mode", Type: module.TypeString, Default: "auto",
			Doc: "Evacuation mode: auto (each instance's cluster.evacuate decides), migrate, live-migrate, refresh-migrate, stop, stateful-stop, force-stop; all but auto override the instances' keys.",
		}, maintArgs[1], maintArgs[2]),
	},
	decode: decodeMaint(true, defaultMaintWait),
	plan:   planMaint(true),
	apply:  applyMaint(true),
}

var clusterMemberRestored = &function{
	spec: module.FuncSpec{
		Name: "cluster_member_restored",
		Doc: "Ensure cluster member `name` is not evacuated (incus cluster restore): instances evacuated from it come " +
			"back and its stopped instances start again. A member that is not evacuated is a no-op. The member must be online.",
		Args: maintArgs,
	},
	decode: decodeMaint(false, defaultMaintWait),
	plan:   planMaint(false),
	apply:  applyMaint(false),
}

// maintArgsT are the decoded arguments of both functions (and of
// cluster_member_online, which has no mode).
type maintArgsT struct {
	mode    string
	cluster []string
	wait    time.Duration
}

// decodeMaint decodes name, cluster, wait (default defWait seconds) and,
// for an evacuation, mode.
func decodeMaint(evacuate bool, defWait int) func(c *module.Call) (any, error) {
	return func(c *module.Call) (any, error) {
		if c.Name == "" {
			return nil, fmt.Errorf("argument name: must not be empty")
		}
		a := &maintArgsT{wait: time.Duration(defWait) * time.Second}
		var err error
		if a.cluster, _, err = argStrings(c.Args, "cluster"); err != nil {
			return nil, err
		}
		if v, ok := c.Args["wait"]; ok && v != nil {
			n, isInt := v.(int)
			if !isInt || n <= 0 {
				return nil, fmt.Errorf("argument wait: want a positive number of seconds, got %v", v)
			}
			a.wait = time.Duration(n) * time.Second
		}
		if evacuate {
			mode, _, err := argString(c.Args, "mode")
			if err != nil {
				return nil, err
			}
			if mode != "" && !slices.Contains(evacuateModes, mode) {
				return nil, fmt.Errorf("argument mode: must be one of %s, got %q", strings.Join(evacuateModes, ", "), mode)
			}
			if mode == "auto" {
				mode = ""
			}
			a.mode = mode
		}
		return a, nil
	}
}

type maintPrivate struct {
	Via string `json:"via"`
}

func planMaint(evacuate bool) func(ctx context.Context, m *Module, c *call) (*module.Plan, error) {
	verb, done := "restored", "Evacuated"
	if evacuate {
		verb = "evacuated"
	}
	return func(ctx context.Context, m *Module, c *call) (*module.Plan, error) {
		tgt, err := targetName(c)
		if err != nil {
			return nil, err
		}
		args := c.args.(*maintArgsT)
		candidates := append(append([]string{}, args.cluster...), tgt, c.Name)
		view, notes := m.findCluster(ctx, candidates)
		if view == nil {
			return nil, fmt.Errorf("failed to reach the cluster of %s: %s", c.Name, strings.Join(notes, "; "))
		}
		mem, _, err := incusconn.ReadMember(view.srv, c.Name)
		if err != nil {
			return nil, err
		}
		if mem == nil {
			return &module.Plan{Fail: true, Comment: fmt.Sprintf("%s is not a member of the cluster of %s", c.Name, view.via)}, nil
		}
		if evacuate == (mem.Status == done) {
			return &module.Plan{Comment: fmt.Sprintf("Cluster member %s is %s", c.Name, verb)}, nil
		}
		if mem.Status != "Online" && mem.Status != done {
			return &module.Plan{Fail: true, Comment: fmt.Sprintf(
				"Cluster member %s cannot be %s: it is %s (%s); Incus forwards the request to the member itself, which must be online. Bring it back and re-run",
				c.Name, verb, strings.ToLower(mem.Status), mem.Message)}, nil
		}
		// Listed Online is not answering (see liveness.go): probe it.
		if why, down := probeMembers(ctx, []api.ClusterMember{*mem}, "", "").down[c.Name]; down {
			return &module.Plan{Fail: true, Comment: fmt.Sprintf(
				"Cluster member %s cannot be %s: it %s; Incus forwards the request to the member itself, which must answer. Bring it back and re-run",
				c.Name, verb, why)}, nil
		}
		insts, err := view.srv.GetInstancesAllProjects("")
		if err != nil {
			return nil, fmt.Errorf("failed to list instances: %w", err)
		}
		moves := map[string]any{}
		for _, in := range insts {
			id := in.Project + "/" + in.Name
			if evacuate && in.Location == c.Name {
				moves[id] = evacuateAction(args.mode, in)
			}
			if !evacuate && in.Config["volatile.evacuate.origin"] == c.Name && in.Location != c.Name {
				moves[id] = "move back from " + in.Location
			}
			if !evacuate && in.Location == c.Name && in.StatusCode == api.Stopped && in.Config["volatile.last_state.power"] == "RUNNING" {
				moves[id] = "start"
			}
		}
		from, to := mem.Status, done
		if !evacuate {
			to = "Online"
		}
		changes := map[string]any{"status": change(from, to)}
		comment := fmt.Sprintf("Cluster member %s would be %s", c.Name, verb)
		if len(moves) > 0 {
			changes["instances"] = moves
			comment += fmt.Sprintf(" (%d instance(s))", len(moves))
		}
		return &module.Plan{Action: module.Update, Changes: changes, Comment: comment, Private: encodePrivate(maintPrivate{Via: view.via})}, nil
	}
}

// evacuateAction says what an evacuation in mode does to one instance:
// Incus applies a mode other than auto to every instance, else the
// instance's cluster.evacuate key (auto: migrate when it can, else stop).
func evacuateAction(mode string, in api.Instance) string {
	if mode == "" {
		mode = in.ExpandedConfig["cluster.evacuate"]
	}
	switch mode {
	case "", "auto":
		return "move (auto: migrate when it can, else stop)"
	case "stop", "stateful-stop", "force-stop":
		return "stop (" + mode + ")"
	}
	return "move (" + mode + ")"
}

func applyMaint(evacuate bool) func(ctx context.Context, m *Module, c *call, p *module.Plan) (*module.Outcome, error) {
	action, verb, want := "restore", "restored", "Online"
	if evacuate {
		action, verb, want = "evacuate", "evacuated", "Evacuated"
	}
	return func(ctx context.Context, m *Module, c *call, p *module.Plan) (*module.Outcome, error) {
		var priv maintPrivate
		if err := decodePrivate(p, &priv); err != nil {
			return nil, err
		}
		args := c.args.(*maintArgsT)
		s, err := m.conn(ctx, priv.Via)
		if err != nil {
			return nil, err
		}
		wctx, cancel := context.WithTimeout(ctx, args.wait)
		defer cancel()
		op, err := postMaint(wctx, s, c.Name, api.ClusterMemberStatePost{Action: action, Mode: args.mode})
		if err != nil {
			return nil, fmt.Errorf("failed to %s cluster member %s: %w", action, c.Name, err)
		}
		if err := waitOp(wctx, s, op); err != nil {
			if wctx.Err() != nil && ctx.Err() == nil {
				return &module.Outcome{Failed: true, Comment: fmt.Sprintf(
					"Cluster member %s: the %s did not finish within %s (operation %s goes on in Incus); re-run to check it", c.Name, action, args.wait, op.Get().ID)}, nil
			}
			return nil, fmt.Errorf("failed to %s cluster member %s: %w", action, c.Name, err)
		}
		mem, _, err := incusconn.ReadMember(s, c.Name)
		if err != nil {
			return nil, err
		}
		if mem == nil || mem.Status != want {
			status := "gone"
			if mem != nil {
				status = mem.Status
			}
			return &module.Outcome{Failed: true, Comment: fmt.Sprintf("Cluster member %s is %s after the %s, not %s", c.Name, status, action, want)}, nil
		}
		changes := map[string]any{"status": p.Changes["status"]}
		if moves, ok := p.Changes["instances"]; ok {
			changes["instances"] = moves
		}
		return &module.Outcome{Changes: changes, Comment: fmt.Sprintf("Cluster member %s %s", c.Name, verb)}, nil
	}
}
