package incus

import "sort"

// rosterAt resolves a `cluster` candidate to a roster name. A roster name
// is kept. An address (HOST[:PORT] or https://HOST:PORT) is the roster
// entry at that address: the Salt formula's pillars name the bootstrap
// member only by its cluster.https_address (incus_bootstrap), so the
// shipped states pass that address for joiners to go through. An entry's
// url or its incus_address grain (statectl lab writes one) match first,
// then its failover addresses; entries are tried in name order. Anything
// else is returned unchanged (and fails to connect, naming it).
func (m *Module) rosterAt(candidate string) string {
	if _, ok := m.roster.Entries[candidate]; ok || candidate == "" {
		return candidate
	}
	want := normAddress(candidate)
	names := make([]string, 0, len(m.roster.Entries))
	for n := range m.roster.Entries {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		e := m.roster.Entries[n]
		grain, _ := e.Grains["incus_address"].(string)
		for _, a := range []string{e.URL, grain} {
			if a != "" && normAddress(a) == want {
				return n
			}
		}
	}
	for _, n := range names {
		for _, a := range m.roster.Entries[n].Addresses {
			if normAddress(a) == want {
				return n
			}
		}
	}
	return candidate
}
