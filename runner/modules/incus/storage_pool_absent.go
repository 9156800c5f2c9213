package incus

import "github.com/statectl/statectl/runner/module"

var storagePoolAbsent = &function{
	spec: module.FuncSpec{
		Name: "storage_pool_absent",
		Doc:  "Ensure a storage pool does not exist (on every member). Refused while it is used (used_by), naming the users.",
		Args: []module.ArgSpec{
			{Name: "name", Type: module.TypeString, Required: true, Doc: "Pool name."},
		},
	},
	decode: decodeResAbsent,
	plan:   planResAbsent(poolKind),
	apply:  applyResAbsent(poolKind),
}
