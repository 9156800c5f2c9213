package watch

import (
	"context"
	"slices"
	"sync"

	incus "github.com/lxc/incus/v6/client"
	"github.com/lxc/incus/v6/shared/api"

	"github.com/statectl/statectl/runner/incusconn"
	"github.com/statectl/statectl/runner/roster"
)

// ClusterSources returns a Listener's Sources for target: the target's own
// daemon first, then the other members of its cluster that the roster
// reaches (by roster name = member name, or by an entry URL or address =
// member URL), in roster order. The members are learnt whenever a source
// connects, so a member that never answered has no peers yet: its
// listener retries it alone, and its passes fail and back off meanwhile.
// load reads the roster at each connection, as it is then.
func ClusterSources(load func() (*roster.Roster, error), target string, opts incusconn.Options) func() []Source {
	p := &peers{}
	dial := func(name string) Dialer {
		return func(ctx context.Context) (incus.InstanceServer, func(), error) {
			r, err := load()
			if err != nil {
				return nil, nil, err
			}
			c, err := incusconn.Connect(ctx, r, name, opts)
			if err != nil {
				return nil, nil, err
			}
			if c.Info != nil && c.Info.Environment.ServerClustered {
				// In the background: the member list needs the cluster
				// database, which stalls while a frozen member held its
				// leadership, and the stream must not wait for it. Best
				// effort: without an answer, the peers known stay.
				go func() {
					if members, err := c.Server.GetClusterMembers(); err == nil {
						p.set(MatchPeers(r, target, members))
					}
				}()
			} else if name == target {
				p.set(nil) // the target left its cluster
			}
			return c.Server, c.Close, nil
		}
	}
	return func() []Source {
		out := []Source{{Name: target, Dial: dial(target)}}
		for _, name := range p.get() {
			out = append(out, Source{Name: name, Dial: dial(name)})
		}
		return out
	}
}

type peers struct {
	mu    sync.Mutex
	names []string
}

func (p *peers) set(names []string) {
	p.mu.Lock()
	p.names = names
	p.mu.Unlock()
}

func (p *peers) get() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.names)
}

// MatchPeers returns the roster entries other than target that reach one
// of members, sorted by roster name.
func MatchPeers(r *roster.Roster, target string, members []api.ClusterMember) []string {
	names := map[string]bool{}
	urls := map[string]bool{}
	for _, m := range members {
		names[m.ServerName] = true
		urls[m.URL] = true
	}
	var out []string
	for _, name := range r.Names() {
		e := r.Entries[name]
		if name == target || e == nil {
			continue
		}
		if names[name] || (e.URL != "" && urls[e.URL]) || slices.ContainsFunc(e.Addresses, func(a string) bool { return urls[a] }) {
			out = append(out, name)
		}
	}
	return out
}
