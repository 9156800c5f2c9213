package incus

import (
	"context"
	"fmt"
	"slices"
	"strings"

	incus "github.com/lxc/incus/v6/client"
	"github.com/lxc/incus/v6/shared/api"

	"github.com/statectl/statectl/runner/incusconn"
	"github.com/statectl/statectl/runner/module"
)

// cluster_group_present: a cluster group with its description, config
// and (optionally) its exact member list. Incus keeps every member in at
// least one group: a PUT that drops a member whose only group this is
// leaves it in silently, so the plan refuses that with the member named.

var clusterGroupPresent = &function{
	spec: module.FuncSpec{
		Name: "cluster_group_present",
		Doc: "Ensure cluster group `name` exists with this description and config and, when `members` is given, exactly " +
			"these members. Incus keeps every member in at least one group: dropping a member whose only group this is " +
			"is refused (add it to another group first). When a run manages both a member's `groups` " +
			"(cluster_member_present) and a group's `members` and they disagree, validation fails before anything runs.",
		Args: []module.ArgSpec{
			{Name: "name", Type: module.TypeString, Required: true, Doc: "Group name."},
			{Name: "description", Type: module.TypeString, Doc: "Group description; unmanaged when absent."},
			{Name: "config", Type: module.TypeMap, Doc: "Group config (user.* keys); listed keys are enforced, null removes a key. Needs the clustering_groups_config API extension (Incus 6.1+)."},
			{Name: "members", Type: module.TypeStringList, Doc: "Exact set of members; unmanaged when absent."},
		},
	},
	decode: decodeGroupPresent,
	plan:   planGroupPresent,
	apply:  applyGroupPresent,
}

// groupArgs are cluster_group_present's arguments.
type groupArgs struct {
	description *string
	config      map[string]*string
	members     []string // sorted; nil: unmanaged
}

func decodeGroupPresent(c *module.Call) (any, error) {
	if c.Name == "" {
		return nil, fmt.Errorf("argument name: must not be empty")
	}
	a := &groupArgs{}
	if d, ok, err := argString(c.Args, "description"); err != nil {
		return nil, err
	} else if ok {
		a.description = &d
	}
	cfg, _, err := argConfig(c.Args, "config")
	if err != nil {
		return nil, err
	}
	a.config = cfg
	members, ok, err := argStrings(c.Args, "members")
	if err != nil {
		return nil, err
	}
	if ok {
		a.members = uniqueSorted(members)
		if a.members == nil {
			a.members = []string{}
		}
	}
	return a, nil
}

type groupPrivate struct {
	Create bool   `json:"create,omitempty"`
	ETag   string `json:"etag,omitempty"`
}

// groupTarget returns the connection to the call's clustered target.
func (m *Module) groupTarget(ctx context.Context, c *call) (incus.InstanceServer, error) {
	tgt, s, err := m.targetConn(ctx, c)
	if err != nil {
		return nil, err
	}
	info, err := readServer(s)
	if err != nil {
		return nil, err
	}
	if !info.clustered {
		return nil, fmt.Errorf("%s is not clustered: cluster groups exist on clusters only", tgt)
	}
	return s, nil
}

// getGroup reads a group; nil without error when it does not exist.
func getGroup(s incus.InstanceServer, name string) (*api.ClusterGroup, string, error) {
	g, etag, err := s.GetClusterGroup(name)
	if isNotFound(err) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("failed to read cluster group %s: %w", name, err)
	}
	return g, etag, nil
}

// onlyGroup returns the members of dropped whose only group is group.
func onlyGroup(s incus.InstanceServer, group string, dropped []string) ([]string, error) {
	var out []string
	for _, name := range dropped {
		mem, _, err := incusconn.ReadMember(s, name)
		if err != nil {
			return nil, err
		}
		if mem != nil && len(mem.Groups) == 1 && mem.Groups[0] == group {
			out = append(out, name)
		}
	}
	return out, nil
}

// groupWant is the group as the call wants it, from cur.
func groupWant(a *groupArgs, cur api.ClusterGroupPut) (api.ClusterGroupPut, map[string]any) {
	put := api.ClusterGroupPut{Description: cur.Description, Members: uniqueSorted(cur.Members), Config: map[string]string{}}
	for k, v := range cur.Config {
		put.Config[k] = v
	}
	changes := map[string]any{}
	if a.description != nil && *a.description != cur.Description {
		changes["description"] = change(orNil(cur.Description), *a.description)
		put.Description = *a.description
	}
	if a.members != nil && !slices.Equal(a.members, put.Members) {
		changes["members"] = change(put.Members, a.members)
		put.Members = a.members
	}
	cfg := map[string]any{}
	for _, k := range sortedKeys(a.config) {
		old, has := cur.Config[k]
		v := a.config[k]
		switch {
		case v == nil && has:
			cfg[k] = change(maskValue(k, old), nil)
			delete(put.Config, k)
		case v != nil && (!has || old != *v):
			var o any
			if has {
				o = maskValue(k, old)
			}
			cfg[k] = change(o, maskValue(k, *v))
			put.Config[k] = *v
		}
	}
	if len(cfg) > 0 {
		changes["config"] = cfg
	}
	return put, changes
}

func planGroupPresent(ctx context.Context, m *Module, c *call) (*module.Plan, error) {
	a := c.args.(*groupArgs)
	s, err := m.groupTarget(ctx, c)
	if err != nil {
		return nil, err
	}
	if len(a.config) > 0 && !s.HasExtension("clustering_groups_config") {
		return &module.Plan{Fail: true, Comment: fmt.Sprintf(
			"Cluster group %s: this Incus has no group config (API extension clustering_groups_config, Incus 6.1+); remove config", c.Name)}, nil
	}
	if len(a.members) > 0 {
		names, err := s.GetClusterMemberNames()
		if err != nil {
			return nil, fmt.Errorf("failed to list cluster members: %w", err)
		}
		var unknown []string
		for _, n := range a.members {
			if !slices.Contains(names, n) {
				unknown = append(unknown, n)
			}
		}
		if len(unknown) > 0 {
			return &module.Plan{Fail: true, Comment: fmt.Sprintf("Cluster group %s: %s not a cluster member (members: %s)",
				c.Name, strings.Join(unknown, ", ")+map[bool]string{true: " is", false: " are"}[len(unknown) == 1], strings.Join(sortedCopy(names), ", "))}, nil
		}
	}
	g, etag, err := getGroup(s, c.Name)
	if err != nil {
		return nil, err
	}
	if g == nil {
		_, changes := groupWant(a, api.ClusterGroupPut{})
		if len(a.members) > 0 {
			changes["members"] = change(nil, a.members)
		}
		changes["group"] = change(nil, c.Name)
		return &module.Plan{Action: module.Create, Changes: changes, Comment: fmt.Sprintf("Cluster group %s would be created", c.Name),
			Private: encodePrivate(groupPrivate{Create: true})}, nil
	}
	_, changes := groupWant(a, g.ClusterGroupPut)
	if len(changes) == 0 {
		return &module.Plan{Comment: fmt.Sprintf("Cluster group %s is as specified", c.Name)}, nil
	}
	if a.members != nil {
		var dropped []string
		for _, n := range g.Members {
			if !slices.Contains(a.members, n) {
				dropped = append(dropped, n)
			}
		}
		stuck, err := onlyGroup(s, c.Name, dropped)
		if err != nil {
			return nil, err
		}
		if len(stuck) > 0 {
			return &module.Plan{Fail: true, Comment: fmt.Sprintf(
				"Cluster group %s cannot drop %s: it is their only group, and Incus keeps every member in at least one group; add them to another group first (cluster_member_present groups)",
				c.Name, strings.Join(stuck, ", "))}, nil
		}
	}
	return &module.Plan{Action: module.Update, Changes: changes, Comment: fmt.Sprintf("Cluster group %s would be updated", c.Name),
		Private: encodePrivate(groupPrivate{ETag: etag})}, nil
}

func applyGroupPresent(ctx context.Context, m *Module, c *call, p *module.Plan) (*module.Outcome, error) {
	var priv groupPrivate
	if err := decodePrivate(p, &priv); err != nil {
		return nil, err
	}
	a := c.args.(*groupArgs)
	s, err := m.groupTarget(ctx, c)
	if err != nil {
		return nil, err
	}
	if priv.Create {
		put, _ := groupWant(a, api.ClusterGroupPut{})
		if len(put.Config) == 0 {
			put.Config = nil
		}
		if err := s.CreateClusterGroup(api.ClusterGroupsPost{Name: c.Name, ClusterGroupPut: put}); err != nil {
			return nil, fmt.Errorf("failed to create cluster group %s: %w", c.Name, err)
		}
		return &module.Outcome{Changes: p.Changes, Comment: fmt.Sprintf("Cluster group %s created", c.Name)}, nil
	}
	g, _, err := getGroup(s, c.Name)
	if err != nil {
		return nil, err
	}
	if g == nil {
		return nil, errConcurrent("cluster group " + c.Name)
	}
	put, _ := groupWant(a, g.ClusterGroupPut)
	if err := s.UpdateClusterGroup(c.Name, put, priv.ETag); err != nil {
		if isStale(err) {
			return nil, errConcurrent("cluster group " + c.Name)
		}
		return nil, fmt.Errorf("failed to update cluster group %s: %w", c.Name, err)
	}
	return &module.Outcome{Changes: p.Changes, Comment: fmt.Sprintf("Cluster group %s updated", c.Name)}, nil
}
