package incus

import (
	"context"
	"fmt"
	"strings"

	"github.com/lxc/incus/v6/shared/api"

	"github.com/statectl/statectl/runner/module"
)

// cluster_group_absent: Incus deletes only empty groups and never
// `default`; members that are in another group too are taken out first.

var clusterGroupAbsent = &function{
	spec: module.FuncSpec{
		Name: "cluster_group_absent",
		Doc: "Ensure cluster group `name` does not exist. Its members are taken out of it first; refused for a member " +
			"whose only group it is (Incus keeps every member in at least one group) and for `default`, which Incus never deletes.",
		Args: []module.ArgSpec{
			{Name: "name", Type: module.TypeString, Required: true, Doc: "Group name."},
		},
	},
	decode: decodeGroupAbsent,
	plan:   planGroupAbsent,
	apply:  applyGroupAbsent,
}

type groupAbsentArgs struct{}

func decodeGroupAbsent(c *module.Call) (any, error) {
	if c.Name == "" {
		return nil, fmt.Errorf("argument name: must not be empty")
	}
	if c.Name == "default" {
		return nil, fmt.Errorf("argument name: the default cluster group cannot be deleted (Incus keeps it)")
	}
	return &groupAbsentArgs{}, nil
}

func planGroupAbsent(ctx context.Context, m *Module, c *call) (*module.Plan, error) {
	s, err := m.groupTarget(ctx, c)
	if err != nil {
		return nil, err
	}
	g, etag, err := getGroup(s, c.Name)
	if err != nil {
		return nil, err
	}
	if g == nil {
		return &module.Plan{Comment: fmt.Sprintf("Cluster group %s is absent", c.Name)}, nil
	}
	stuck, err := onlyGroup(s, c.Name, g.Members)
	if err != nil {
		return nil, err
	}
	if len(stuck) > 0 {
		return &module.Plan{Fail: true, Comment: fmt.Sprintf(
			"Cluster group %s cannot be removed: it is the only group of %s, and Incus keeps every member in at least one group; add them to another group first",
			c.Name, strings.Join(sortedCopy(stuck), ", "))}, nil
	}
	changes := map[string]any{"group": change(c.Name, nil)}
	if len(g.Members) > 0 {
		changes["members"] = change(uniqueSorted(g.Members), nil)
	}
	return &module.Plan{Action: module.Delete, Changes: changes, Comment: fmt.Sprintf("Cluster group %s would be removed", c.Name),
		Private: encodePrivate(groupPrivate{ETag: etag})}, nil
}

func applyGroupAbsent(ctx context.Context, m *Module, c *call, p *module.Plan) (*module.Outcome, error) {
	var priv groupPrivate
	if err := decodePrivate(p, &priv); err != nil {
		return nil, err
	}
	s, err := m.groupTarget(ctx, c)
	if err != nil {
		return nil, err
	}
	g, _, err := getGroup(s, c.Name)
	if err != nil {
		return nil, err
	}
	if g == nil {
		return &module.Outcome{Comment: fmt.Sprintf("Cluster group %s is absent", c.Name)}, nil
	}
	if len(g.Members) > 0 {
		put := api.ClusterGroupPut{Description: g.Description, Members: []string{}, Config: g.Config}
		if err := s.UpdateClusterGroup(c.Name, put, priv.ETag); err != nil {
			if isStale(err) {
				return nil, errConcurrent("cluster group " + c.Name)
			}
			return nil, fmt.Errorf("failed to empty cluster group %s: %w", c.Name, err)
		}
	}
	if err := s.DeleteClusterGroup(c.Name); err != nil {
		return nil, fmt.Errorf("failed to remove cluster group %s: %w", c.Name, err)
	}
	return &module.Outcome{Changes: p.Changes, Comment: fmt.Sprintf("Cluster group %s removed", c.Name)}, nil
}
