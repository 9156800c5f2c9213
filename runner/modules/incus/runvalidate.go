package incus

import (
	"fmt"
	"slices"

	"github.com/statectl/statectl/runner/module"
)

// ValidateRun implements module.RunValidator: group membership can be
// managed from both sides (a member's `groups`, a group's `members`), and
// when one run manages both they must agree, or the later state would
// undo the earlier one on every run. Checked offline, before anything runs.
func (m *Module) ValidateRun(calls []*module.Call) []module.CallError {
	type memberSide struct {
		id     string
		groups []string
	}
	members := map[string]memberSide{} // member name -> its managed groups
	var groupCalls []*module.Call
	for _, c := range calls {
		switch c.Function {
		case clusterMemberPresent.spec.Name:
			a, err := decodeMemberPresent(c)
			if err != nil || !a.(*presentArgs).want.hasGroups {
				continue
			}
			members[c.Name] = memberSide{id: c.ID, groups: uniqueSorted(a.(*presentArgs).want.groups)}
		case clusterGroupPresent.spec.Name, clusterGroupAbsent.spec.Name:
			groupCalls = append(groupCalls, c)
		}
	}
	var out []module.CallError
	for _, c := range groupCalls {
		var listed []string // the group's managed members; nil: unmanaged
		absent := c.Function == clusterGroupAbsent.spec.Name
		if !absent {
			a, err := decodeGroupPresent(c)
			if err != nil || a.(*groupArgs).members == nil {
				continue
			}
			listed = a.(*groupArgs).members
		}
		for _, name := range sortedKeys(members) {
			ms := members[name]
			inGroups := slices.Contains(ms.groups, c.Name)
			inMembers := !absent && slices.Contains(listed, name)
			switch {
			case inGroups && absent:
				out = append(out, module.CallError{ID: c.ID, Err: fmt.Errorf(
					"cluster group %s is to be absent, but state %s (cluster_member_present %s) puts %s in it (groups: %v); make them agree",
					c.Name, ms.id, name, name, ms.groups)})
			case inGroups && !inMembers:
				out = append(out, module.CallError{ID: c.ID, Err: fmt.Errorf(
					"cluster group %s does not list %s in members, but state %s (cluster_member_present %s) puts it in the group (groups: %v); make them agree",
					c.Name, name, ms.id, name, ms.groups)})
			case !inGroups && inMembers:
				out = append(out, module.CallError{ID: c.ID, Err: fmt.Errorf(
					"cluster group %s lists %s in members, but state %s (cluster_member_present %s) keeps it out of the group (groups: %v); make them agree",
					c.Name, name, ms.id, name, ms.groups)})
			}
		}
	}
	return out
}
