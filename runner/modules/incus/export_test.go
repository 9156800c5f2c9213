package incus

import (
	"fmt"

	"github.com/statectl/statectl/runner/module"
)

// SkipJoinChecks makes m start joins without checking for the leftovers
// of failed ones, so a test can produce such a failure.
func SkipJoinChecks(m module.Module) { m.(*Module).noJoinChecks = true }

// ParseRaftDump exposes parseRaftDump's rows as "ID ADDRESS ROLE".
func ParseRaftDump(dump string) []string {
	var out []string
	for _, n := range parseRaftDump(dump) {
		out = append(out, fmt.Sprintf("%d %s %s", n.ID, n.Address, n.roleName()))
	}
	return out
}
