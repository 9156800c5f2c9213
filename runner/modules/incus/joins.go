package incus

import (
	"context"
	"fmt"
	"sync"
)

// A server that joins a cluster keeps its member-local keys and takes the
// cluster's cluster-wide settings in place of its own. The settings
// functions planned for a target after its cluster_member_present in the
// same run must know about that join:
//   - in test mode the join is only predicted, so the settings plan would
//     otherwise compare against the standalone server's config and report
//     changes the real run never makes;
//   - when the join failed, writing settings to the standalone server is
//     pointless (the cluster's replace them on the next join) and hides
//     the failure behind a green state.
// joinBook records both per member name, for the life of the Module (one
// run).

type joinBook struct {
	mu    sync.Mutex
	notes map[string]joinNote
}

type joinNote struct {
	via     string // roster name of the member the join goes through ("" unknown)
	address string // the joiner's address
	failed  error  // set when the join failed in this run
}

func (b *joinBook) set(name string, n joinNote) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.notes == nil {
		b.notes = map[string]joinNote{}
	}
	b.notes[name] = n
}

func (b *joinBook) get(name string) (joinNote, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, ok := b.notes[name]
	return n, ok
}

func (b *joinBook) clear(name string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.notes, name)
}

// notePendingJoin records a join predicted in test mode.
func (m *Module) notePendingJoin(name, via, address string) {
	m.joins.set(name, joinNote{via: via, address: address})
}

// noteJoinFailed records a join that failed in this run.
func (m *Module) noteJoinFailed(name string, err error) {
	if err == nil {
		err = fmt.Errorf("not listed as a member")
	}
	m.joins.set(name, joinNote{failed: err})
}

// afterJoin adjusts what a settings plan sees of an unclustered target
// (roster name tgt) that this run joins or failed to join. It returns the
// server as it will be once joined (nil: unchanged) and a note for the
// comment, or a failure message.
// Predictions are for test mode only: a real run plans after the join.
func (m *Module) afterJoin(ctx context.Context, tgt string, info *serverInfo, test bool) (joined *serverInfo, note, fail string, err error) {
	if info.clustered {
		return nil, "", "", nil
	}
	n, ok := m.joins.get(tgt)
	if !ok {
		return nil, "", "", nil
	}
	if n.failed != nil {
		return nil, "", fmt.Sprintf("%s failed to join its cluster in this run (%v): its server settings are left alone, because the cluster's settings replace them when it joins; fix the join and re-run", tgt, n.failed), nil
	}
	if n.via == "" || !test {
		return nil, "", "", nil
	}
	vs, err := m.conn(ctx, n.via)
	if err != nil {
		return nil, "", "", err
	}
	vinfo, err := readServer(vs)
	if err != nil {
		return nil, "", "", fmt.Errorf("%s: %w", n.via, err)
	}
	cfg := map[string]string{}
	for k, v := range vinfo.config {
		if !memberLocalKeys[k] {
			cfg[k] = v
		}
	}
	for k, v := range info.config {
		if memberLocalKeys[k] {
			cfg[k] = v
		}
	}
	// A joiner listening nowhere is made to listen on its join address.
	if cfg["core.https_address"] == "" && cfg["cluster.https_address"] == "" && n.address != "" {
		cfg["core.https_address"], cfg["cluster.https_address"] = n.address, n.address
	}
	joined = &serverInfo{clustered: true, name: tgt, config: cfg}
	return joined, fmt.Sprintf(" (once it has joined the cluster of %s, whose cluster-wide settings it takes)", n.via), "", nil
}
