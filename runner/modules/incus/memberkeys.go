package incus

import "regexp"

// Member-specific config keys: on a cluster these are stored per member,
// set through ?target=MEMBER, and left out of an untargeted GET. The lists
// are Incus's own, which live in internal packages this module cannot
// import; they are copied from github.com/lxc/incus/v6 v6.18.0 (the version
// go.mod requires) and must follow it:
//   - pools: NodeSpecificStorageConfig, internal/server/db/storage_pools.go
//   - networks: nodeSpecificNetworkConfig and nodeSpecificNetworkConfigRe,
//     internal/server/db/networks.go
var poolMemberKeys = map[string]bool{
	"size":                    true,
	"source":                  true,
	"source.wipe":             true,
	"volatile.initial_source": true,
	"zfs.pool_name":           true,
	"lvm.thinpool_name":       true,
	"lvm.vg_name":             true,
	"lvm.vg.force_reuse":      true,
}

var networkMemberKeys = map[string]bool{
	"bgp.ipv4.nexthop":           true,
	"bgp.ipv6.nexthop":           true,
	"bridge.external_interfaces": true,
	"parent":                     true,
}

var networkMemberKeyRe = regexp.MustCompile(`^tunnel\.[^.]+\.(interface|local)$`)

func isPoolMemberKey(k string) bool { return poolMemberKeys[k] }

func isNetworkMemberKey(k string) bool {
	return networkMemberKeys[k] || networkMemberKeyRe.MatchString(k)
}

// networkTypeTargeted reports whether a network type takes member-specific
// config (a targeted create). Incus's driver info says no for ovn only
// (NodeSpecificConfig in internal/server/network/driver_ovn.go); an ovn
// network is created by one untargeted POST, which adds the member rows.
func networkTypeTargeted(typ string) bool { return typ != "ovn" }
