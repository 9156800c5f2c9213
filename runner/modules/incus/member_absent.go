package incus

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/statectl/statectl/runner/incusconn"
	"github.com/statectl/statectl/runner/module"
)

// cluster_member_absent: `name` is not a member of the cluster.

var clusterMemberAbsent = &function{
	spec: module.FuncSpec{
		Name: "cluster_member_absent",
		Doc: "Ensure `name` is not a cluster member. Refuses when the member does not answer (offline, stopped or " +
			"frozen: checked within a few seconds), when the removal would leave the cluster without quorum, when it " +
			"is the last member, or when the member still holds instances, unless force.",
		Args: []module.ArgSpec{
			{Name: "name", Type: module.TypeString, Required: true, Doc: "Member name."},
			{Name: "force", Type: module.TypeBool, Default: false, Doc: "Remove even if offline, holding instances, last or quorum-breaking (incus cluster remove --force)."},
			{Name: "cluster", Type: module.TypeStringList, Doc: "Roster name(s) of members to remove through, tried in order; default: the target."},
		},
	},
	decode: decodeMemberAbsent,
	plan:   planMemberAbsent,
	apply:  applyMemberAbsent,
}

// absentArgs are cluster_member_absent's arguments.
type absentArgs struct {
	force   bool
	cluster []string // roster names to reach the cluster through
}

func decodeMemberAbsent(c *module.Call) (any, error) {
	if c.Name == "" {
		return nil, fmt.Errorf("argument name: must not be empty")
	}
	force, err := argBool(c.Args, "force")
	if err != nil {
		return nil, err
	}
	cluster, _, err := argStrings(c.Args, "cluster")
	if err != nil {
		return nil, err
	}
	return &absentArgs{force: force, cluster: cluster}, nil
}

type absentPrivate struct {
	Via string `json:"via"`
}

func planMemberAbsent(ctx context.Context, m *Module, c *call) (*module.Plan, error) {
	tgt, err := targetName(c)
	if err != nil {
		return nil, err
	}
	args := c.args.(*absentArgs)
	force := args.force
	candidates := append([]string{}, args.cluster...)
	if len(candidates) == 0 {
		candidates = []string{tgt}
	}
	view, notes := m.findCluster(ctx, candidates)
	if view == nil {
		// A reachable but unclustered server has no members to remove.
		unreachable := false
		for _, n := range notes {
			if !strings.HasSuffix(n, " is not clustered") {
				unreachable = true
			}
		}
		if unreachable {
			return nil, fmt.Errorf("cannot check membership of %s: %s", c.Name, strings.Join(notes, "; "))
		}
		return &module.Plan{Comment: fmt.Sprintf("Cluster member %s is absent (%s)", c.Name, strings.Join(notes, "; "))}, nil
	}
	members, err := view.srv.GetClusterMembers()
	if err != nil {
		return nil, fmt.Errorf("failed to list cluster members: %w", err)
	}
	idx := -1
	for i, mem := range members {
		if mem.ServerName == c.Name {
			idx = i
		}
	}
	if idx < 0 {
		return &module.Plan{Comment: fmt.Sprintf("Cluster member %s is absent", c.Name)}, nil
	}

	var refusals []string
	var hints []string
	if len(members) == 1 {
		refusals = append(refusals, fmt.Sprintf("%s is the last member of the cluster", c.Name))
	} else {
		// One probe round for the member and the others, each bounded by
		// probeTimeout: a frozen member is listed Online and would hold
		// the removal for the whole request timeout.
		l := probeMembers(ctx, members, "", view.info.name)
		if why, down := l.down[c.Name]; down {
			refusals = append(refusals, fmt.Sprintf("%s does not answer: %s; Incus cannot tell a member that does not answer to leave, and one removed that way never becomes ready again (it must be wiped and re-joined)", c.Name, why))
			hints = append(hints, fmt.Sprintf("bring %s back", c.Name))
		}
		if q := quorumAfterRemoval(l, c.Name); q != "" {
			refusals = append(refusals, q)
			hints = append(hints, "bring the members that do not answer back")
		}
	}
	insts, err := view.srv.GetInstancesAllProjects("")
	if err != nil {
		return nil, fmt.Errorf("failed to list instances: %w", err)
	}
	var held []string
	for _, in := range insts {
		if in.Location == c.Name {
			held = append(held, in.Project+"/"+in.Name)
		}
	}
	if len(held) > 0 {
		sort.Strings(held)
		refusals = append(refusals, fmt.Sprintf("%s still holds %d instance(s): %s", c.Name, len(held), strings.Join(held, ", ")))
		hints = append(hints, "move the instances away")
	}

	changes := map[string]any{"member": change(c.Name, nil)}
	if len(refusals) > 0 && !force {
		return &module.Plan{Fail: true, Comment: fmt.Sprintf("Refusing to remove cluster member %s: %s; %s",
			c.Name, strings.Join(refusals, "; "), strings.Join(append(hints, "set force: true"), ", or "))}, nil
	}
	comment := fmt.Sprintf("Cluster member %s would be removed", c.Name)
	if force {
		comment += " (force)"
		if len(refusals) > 0 {
			comment += ", although " + strings.Join(refusals, "; ")
		}
	}
	return &module.Plan{Action: module.Delete, Changes: changes, Comment: comment, Private: encodePrivate(absentPrivate{Via: view.via})}, nil
}

// quorumAfterRemoval says why removing name would leave the cluster
// without quorum, or "": a majority of the remaining database voters must
// answer. l comes from probing the members (see probeMembers), because a
// member that stopped answering is still listed Online for
// cluster.offline_threshold.
func quorumAfterRemoval(l *liveness, name string) string {
	voters := l.voters(name)
	up, down := l.answering(voters)
	if len(up)*2 > len(voters) {
		return ""
	}
	return fmt.Sprintf("only %d of the %d remaining database members answer, so the cluster would lose quorum (%s)",
		len(up), len(voters), l.describeDown(down))
}

func applyMemberAbsent(ctx context.Context, m *Module, c *call, p *module.Plan) (*module.Outcome, error) {
	var priv absentPrivate
	if err := decodePrivate(p, &priv); err != nil {
		return nil, err
	}
	force := c.args.(*absentArgs).force
	s, err := m.conn(ctx, priv.Via)
	if err != nil {
		return nil, err
	}
	delErr := s.DeleteClusterMember(c.Name, force)
	// The removed daemon re-initialises standalone: drop its connection.
	defer m.forget(c.Name)
	// Re-read: removing a stopped member errors although it is gone.
	mem, _, rerr := incusconn.ReadMember(s, c.Name)
	if rerr != nil && priv.Via == c.Name {
		// Removed through itself: it is now standalone, so it cannot list
		// members, and that is the proof it left.
		if info, err := readServer(s); err == nil && !info.clustered {
			mem, rerr = nil, nil
		}
	}
	if rerr != nil {
		if delErr != nil {
			return nil, fmt.Errorf("failed to remove cluster member %s: %w (re-reading membership failed too: %v)", c.Name, delErr, rerr)
		}
		return nil, rerr
	}
	if mem != nil {
		if delErr == nil {
			delErr = fmt.Errorf("the member is still listed")
		}
		return &module.Outcome{Failed: true, Comment: fmt.Sprintf("Failed to remove cluster member %s: %v", c.Name, delErr)}, nil
	}
	comment := fmt.Sprintf("Cluster member %s removed", c.Name)
	if delErr != nil {
		comment += fmt.Sprintf(" (Incus reported an error, but the member is gone: %v)", delErr)
	}
	return &module.Outcome{Changes: map[string]any{"member": change(c.Name, nil)}, Comment: comment}, nil
}
