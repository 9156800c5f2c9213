package incus

import "github.com/statectl/statectl/runner/module"

var networkAbsent = &function{
	spec: module.FuncSpec{
		Name: "network_absent",
		Doc:  "Ensure a managed network does not exist (on every member). Refused while it is used (used_by), naming the users.",
		Args: []module.ArgSpec{
			{Name: "name", Type: module.TypeString, Required: true, Doc: "Network name."},
		},
	},
	decode: decodeResAbsent,
	plan:   planResAbsent(networkKind),
	apply:  applyResAbsent(networkKind),
}
