package incus

import (
	incus "github.com/lxc/incus/v6/client"
	"github.com/lxc/incus/v6/shared/api"

	"github.com/statectl/statectl/runner/module"
)

// network_present: a managed network, created in Incus's two phases on a
// cluster (one untargeted create for ovn) and converged per member
// afterwards (see sharedres.go).

var networkKind = &resKind{
	noun:      "network",
	typeArg:   "type",
	memberKey: isNetworkMemberKey,
	targeted:  networkTypeTargeted,
	get: func(s incus.InstanceServer, name string) (*resInfo, string, error) {
		n, etag, err := s.GetNetwork(name)
		if err != nil {
			if isNotFound(err) {
				return nil, "", nil
			}
			return nil, "", err
		}
		if !n.Managed {
			// A host interface of that name, not an Incus network.
			return nil, "", nil
		}
		return &resInfo{typ: n.Type, description: n.Description, config: n.Config, status: n.Status,
			locations: n.Locations, usedBy: n.UsedBy}, etag, nil
	},
	create: func(s incus.InstanceServer, name, typ, desc string, cfg map[string]string) error {
		return s.CreateNetwork(api.NetworksPost{Name: name, Type: typ,
			NetworkPut: api.NetworkPut{Description: desc, Config: cfg}})
	},
	update: func(s incus.InstanceServer, name, desc string, cfg map[string]string, etag string) error {
		return s.UpdateNetwork(name, api.NetworkPut{Description: desc, Config: cfg}, etag)
	},
	remove: func(s incus.InstanceServer, name string) error { return s.DeleteNetwork(name) },
}

var networkPresent = &function{
	spec: module.FuncSpec{
		Name: "network_present",
		Doc: "Ensure a managed network exists with this type, config and description. On a cluster it is created in " +
			"Incus's two phases: a pending entry per member (member-specific keys: parent, bridge.external_interfaces, " +
			"bgp.ipv4.nexthop, bgp.ipv6.nexthop, tunnel.NAME.interface, tunnel.NAME.local), then one cluster-wide " +
			"create with the other keys once every member has its entry; ovn networks take one cluster-wide create. " +
			"An interrupted or Errored create is finished by the next run, and entries made earlier with other member " +
			"values are updated first. Afterwards listed keys are converged " +
			"(cluster-wide keys once, member-specific keys per member); keys not listed are left alone. The type cannot change.",
		Args: []module.ArgSpec{
			{Name: "name", Type: module.TypeString, Required: true, Doc: "Network name."},
			{Name: "type", Type: module.TypeString, Default: "bridge", Doc: "Network type (bridge, macvlan, physical, sriov, ovn); immutable. The seed pillar calls it network_type."},
			{Name: "config", Type: module.TypeMap, Doc: "Network config; null removes a key. Member-specific keys here are the target's own."},
			{Name: "description", Type: module.TypeString, Doc: "Network description; unmanaged when absent."},
			{Name: "members", Type: module.TypeMap, Doc: membersArgDoc},
		},
	},
	decode: decodeResPresent(networkKind),
	plan:   planResource(networkKind),
	apply:  applyResource(networkKind),
}
