package incus

import (
	incus "github.com/lxc/incus/v6/client"
	"github.com/lxc/incus/v6/shared/api"

	"github.com/statectl/statectl/runner/module"
)

// storage_pool_present: a storage pool, created in Incus's two phases on a
// cluster and converged per member afterwards (see sharedres.go).

var poolKind = &resKind{
	noun:      "storage pool",
	typeArg:   "driver",
	memberKey: isPoolMemberKey,
	// "Pool source cannot be changed when not in pending state" (incusd,
	// backend.Update).
	fixedOnceCreated: func(key string) bool { return key == "source" },
	targeted:         func(string) bool { return true },
	get: func(s incus.InstanceServer, name string) (*resInfo, string, error) {
		p, etag, err := s.GetStoragePool(name)
		if err != nil {
			if isNotFound(err) {
				return nil, "", nil
			}
			return nil, "", err
		}
		return &resInfo{typ: p.Driver, description: p.Description, config: p.Config, status: p.Status,
			locations: p.Locations, usedBy: p.UsedBy}, etag, nil
	},
	create: func(s incus.InstanceServer, name, typ, desc string, cfg map[string]string) error {
		return s.CreateStoragePool(api.StoragePoolsPost{Name: name, Driver: typ,
			StoragePoolPut: api.StoragePoolPut{Description: desc, Config: cfg}})
	},
	update: func(s incus.InstanceServer, name, desc string, cfg map[string]string, etag string) error {
		return s.UpdateStoragePool(name, api.StoragePoolPut{Description: desc, Config: cfg}, etag)
	},
	remove: func(s incus.InstanceServer, name string) error { return s.DeleteStoragePool(name) },
}

var storagePoolPresent = &function{
	spec: module.FuncSpec{
		Name: "storage_pool_present",
		Doc: "Ensure a storage pool exists with this driver, config and description. On a cluster it is created in " +
			"Incus's two phases: a pending entry per member (member-specific keys: size, source, source.wipe, " +
			"volatile.initial_source, zfs.pool_name, lvm.thinpool_name, lvm.vg_name, lvm.vg.force_reuse), then one " +
			"cluster-wide create with the other keys once every member has its entry; an interrupted or Errored " +
			"create is finished by the next run, and entries made earlier with other member values are updated first. " +
			"A member's source cannot change once the pool is created (Incus refuses it): the plan fails. Afterwards listed keys are converged (cluster-wide keys once, " +
			"member-specific keys per member); keys not listed are left alone. The driver cannot change.",
		Args: []module.ArgSpec{
			{Name: "name", Type: module.TypeString, Required: true, Doc: "Pool name."},
			{Name: "driver", Type: module.TypeString, Required: true, Doc: "Storage driver (dir, zfs, lvm, btrfs, ceph ...); immutable."},
			{Name: "config", Type: module.TypeMap, Doc: "Pool config; null removes a key. Member-specific keys here are the target's own."},
			{Name: "description", Type: module.TypeString, Doc: "Pool description; unmanaged when absent."},
			{Name: "members", Type: module.TypeMap, Doc: membersArgDoc},
		},
	},
	decode: decodeResPresent(poolKind),
	plan:   planResource(poolKind),
	apply:  applyResource(poolKind),
}
