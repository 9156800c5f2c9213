package incus

import (
	"context"
	"fmt"
	"strings"
	"time"

	incus "github.com/lxc/incus/v6/client"
	"github.com/lxc/incus/v6/shared/api"

	"github.com/statectl/statectl/runner/module"
)

// settings_present, settings_managed, settings_config, settings_absent:
// server configuration (GET/PUT /1.0) with the Salt formula's names.
//
// Member-local keys (core.https_address ...) belong to one member: the
// `member` argument, default the target. They are read and written through
// UseTarget(member); cluster-wide keys travel in the same request, because
// a targeted GET /1.0 returns both and its ETag covers both. Every PUT
// repeats the full map as read (PUT replaces), so cluster.https_address and
// keys this state does not manage are never altered by accident.

var memberArg = module.ArgSpec{Name: "member", Type: module.TypeString,
	Doc: "Cluster member whose member-local keys are managed; default: the target's member."}

var settingsPresent = &function{
	spec: module.FuncSpec{
		Name: "settings_present",
		Doc:  "Ensure the listed server config keys have these values (merge); null removes a key.",
		Args: []module.ArgSpec{
			{Name: "name", Type: module.TypeString, Required: true, Doc: "State label."},
			{Name: "config", Type: module.TypeMap, Required: true, Doc: "Server config keys and values."},
			memberArg,
		},
	},
	decode: func(c *module.Call) (any, error) { return parseSettings(c) },
	plan:   planSettings,
	apply:  applySettings,
}

var settingsManaged = &function{
	spec: module.FuncSpec{
		Name: "settings_managed",
		Doc: "Ensure the cluster-wide server config is exactly `config`: listed keys set, other cluster-wide keys " +
			"removed. Member-local keys (cluster.https_address, core.https_address ...) are only touched when listed.",
		Args: []module.ArgSpec{
			{Name: "name", Type: module.TypeString, Required: true, Doc: "State label."},
			{Name: "config", Type: module.TypeMap, Required: true, Doc: "The complete server config."},
			memberArg,
		},
	},
	decode: func(c *module.Call) (any, error) { return parseSettings(c) },
	plan:   planSettings,
	apply:  applySettings,
}

var settingsConfig = &function{
	spec: module.FuncSpec{
		Name: "settings_config",
		Doc:  "Ensure one server config key has this value.",
		Args: []module.ArgSpec{
			{Name: "name", Type: module.TypeString, Required: true, Doc: "State label."},
			{Name: "key", Type: module.TypeString, Required: true, Doc: "Config key."},
			{Name: "value", Type: module.TypeString, Required: true, Doc: "Value; \"\" unsets the key."},
			memberArg,
		},
	},
	decode: func(c *module.Call) (any, error) { return parseSettings(c) },
	plan:   planSettings,
	apply:  applySettings,
}

var settingsAbsent = &function{
	spec: module.FuncSpec{
		Name: "settings_absent",
		Doc:  "Ensure a server config key is unset (back to its default).",
		Args: []module.ArgSpec{
			{Name: "name", Type: module.TypeString, Required: true, Doc: "State label."},
			{Name: "key", Type: module.TypeString, Required: true, Doc: "Config key."},
			memberArg,
		},
	},
	decode: func(c *module.Call) (any, error) { return parseSettings(c) },
	plan:   planSettings,
	apply:  applySettings,
}

// settingsWant is the desired config of one call.
type settingsWant struct {
	set     map[string]*string // nil: remove
	managed bool               // remove cluster-wide keys not in set
	skipped []string           // obsolete keys ignored
	member  string             // another member of the cluster to configure ("": the target)
}

func parseSettings(c *module.Call) (*settingsWant, error) {
	w := &settingsWant{set: map[string]*string{}}
	switch c.Function {
	case "settings_present", "settings_managed":
		cfg, ok, err := argConfig(c.Args, "config")
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("argument config: required")
		}
		w.set = cfg
		w.managed = c.Function == "settings_managed"
	case "settings_config", "settings_absent":
		key, ok, err := argString(c.Args, "key")
		if err != nil {
			return nil, err
		}
		if !ok || key == "" {
			return nil, fmt.Errorf("argument key: required")
		}
		if c.Function == "settings_absent" {
			w.set[key] = nil
			break
		}
		v, ok, err := argString(c.Args, "value")
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("argument value: required (use settings_absent to unset a key)")
		}
		w.set[key] = &v
	default:
		return nil, fmt.Errorf("not a settings function: %s", c.Function)
	}
	for k := range w.set {
		if k == "" || strings.ContainsAny(k, " \t\n") {
			return nil, fmt.Errorf("invalid config key %q", k)
		}
		if _, ok := obsoleteKeys[k]; ok {
			w.skipped = append(w.skipped, k)
			delete(w.set, k)
		}
	}
	var err error
	if w.member, _, err = argString(c.Args, "member"); err != nil {
		return nil, err
	}
	return w, nil
}

type settingsPrivate struct {
	Member string `json:"member,omitempty"` // UseTarget member; "" for the target itself
	ETag   string `json:"etag"`
}

func planSettings(ctx context.Context, m *Module, c *call) (*module.Plan, error) {
	w := c.args.(*settingsWant)
	view, member, label, err := m.settingsView(ctx, c)
	if err != nil {
		return nil, err
	}
	info, err := readServer(view)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", label, err)
	}
	joinNote := ""
	if member == "" {
		joined, note, fail, err := m.afterJoin(ctx, c, label, info)
		if err != nil {
			return nil, err
		}
		if fail != "" {
			return &module.Plan{Fail: true, Comment: fail}, nil
		}
		if joined != nil {
			info, joinNote = joined, note
		}
	}
	_, changes, fail := w.diff(info)
	comment := settingsComment(w, label, changes, true) + joinNote
	if fail != "" {
		return &module.Plan{Fail: true, Comment: fail}, nil
	}
	if len(changes) > 0 && info.clustered && joinNote == "" {
		if stalled, err := m.stalledFor(ctx, c); err != nil {
			return nil, err
		} else if stalled != "" {
			return &module.Plan{Fail: true, Comment: fmt.Sprintf(
				"Server settings of %s cannot be written now: %s; Incus would hold the write until they answer and apply it then, after this run has reported it failed. Re-run once they answer, or once the cluster marks them offline (cluster.offline_threshold)",
				label, stalled)}, nil
		}
	}
	p := &module.Plan{Comment: comment}
	if len(changes) > 0 {
		p.Changes = changes
		// Pin apply's read and PUT to the member that answered this read:
		// behind a load balancer each request may reach another member,
		// whose member-local keys and ETag differ from this one's.
		if member == "" && info.clustered && joinNote == "" {
			member = info.name
		}
		p.Private = encodePrivate(settingsPrivate{Member: member, ETag: info.etag})
	}
	return p, nil
}

func applySettings(ctx context.Context, m *Module, c *call, p *module.Plan) (*module.Outcome, error) {
	var priv settingsPrivate
	if err := decodePrivate(p, &priv); err != nil {
		return nil, err
	}
	w := c.args.(*settingsWant)
	view, _, label, err := m.settingsView(ctx, c)
	if err != nil {
		return nil, err
	}
	if priv.Member != "" {
		// The member whose ETag the plan recorded (see planSettings).
		view = view.UseTarget(priv.Member)
	}
	info, err := readServer(view)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", label, err)
	}
	cfg, changes, fail := w.diff(info)
	if fail != "" {
		return &module.Outcome{Failed: true, Comment: fail}, nil
	}
	if len(changes) == 0 {
		return &module.Outcome{Comment: settingsComment(w, label, nil, false)}, nil
	}
	// The plan's ETag: an edit made since the plan fails with 412.
	if err := view.UpdateServer(api.ServerPut{Config: cfg}, priv.ETag); err != nil {
		if isStale(err) {
			return &module.Outcome{Failed: true, Comment: errConcurrent("server config of " + label).Error()}, nil
		}
		// Errors lie: a cluster-wide write is committed before Incus
		// notifies every member, and a member that stopped answering
		// (still listed Online) holds the answer until the request times
		// out. Re-read before calling it a failure.
		if left, rerr := settleSettings(ctx, view, w); rerr == nil && len(left) == 0 {
			return &module.Outcome{Changes: changes, Comment: settingsComment(w, label, changes, false) + fmt.Sprintf(
				" (Incus reported an error, but the values are stored; a cluster member may not be answering: %v)", err)}, nil
		}
		return nil, fmt.Errorf("failed to update server config of %s: %w", label, err)
	}
	left, err := settleSettings(ctx, view, w)
	if err != nil {
		return nil, fmt.Errorf("%s: re-reading after the update: %w", label, err)
	}
	if len(left) > 0 {
		return &module.Outcome{Failed: true, Changes: changes, Comment: fmt.Sprintf(
			"Server settings of %s updated, but Incus stores different values for %s", label, strings.Join(sortedKeys(left), ", "))}, nil
	}
	return &module.Outcome{Changes: changes, Comment: settingsComment(w, label, changes, false)}, nil
}

// settingsView returns the connection to read and write through: the
// target, or UseTarget(member) for another member of its cluster; member
// is what Apply must target again and label names it in messages.
func (m *Module) settingsView(ctx context.Context, c *call) (view incus.InstanceServer, member, label string, err error) {
	tgt, s, err := m.targetConn(ctx, c)
	if err != nil {
		return nil, "", "", err
	}
	want := c.args.(*settingsWant).member
	if want == "" {
		return s, "", tgt, nil
	}
	info, err := readServer(s)
	if err != nil {
		return nil, "", "", err
	}
	if !info.clustered {
		return nil, "", "", fmt.Errorf("member %s given, but target %s is not clustered", want, tgt)
	}
	if want == info.name {
		return s, "", tgt, nil
	}
	return s.UseTarget(want), want, "member " + want, nil
}

// diff returns the config to PUT, the Salt changes (secret values masked)
// and a failure message for changes Incus cannot make.
func (w *settingsWant) diff(info *serverInfo) (map[string]string, map[string]any, string) {
	cfg := make(map[string]string, len(info.config)+len(w.set))
	for k, v := range info.config {
		cfg[k] = v
	}
	changes := map[string]any{}
	for _, k := range sortedKeys(w.set) {
		want := ""
		if v := w.set[k]; v != nil {
			want = *v
		}
		have := info.config[k]
		if normValue(k, want) == normValue(k, have) {
			continue
		}
		if k == "cluster.https_address" && info.clustered {
			return nil, nil, fmt.Sprintf("cluster.https_address is %s, not %s: it cannot change on a clustered member; remove the member and re-join it at the new address",
				orNone(have), orNone(want))
		}
		changes[k] = change(maskValue(k, orNil(have)), maskValue(k, orNil(want)))
		// "" unsets: a key merely left out of a PUT survives when it is
		// a user.* key.
		cfg[k] = want
	}
	if w.managed {
		for _, k := range sortedKeys(info.config) {
			if _, listed := w.set[k]; listed || memberLocalKeys[k] {
				continue
			}
			changes[k] = change(maskValue(k, info.config[k]), nil)
			cfg[k] = ""
		}
	}
	return cfg, changes, ""
}

func settingsComment(w *settingsWant, label string, changes map[string]any, test bool) string {
	var b strings.Builder
	switch {
	case len(changes) == 0:
		fmt.Fprintf(&b, "Server settings of %s are as specified", label)
	case test:
		fmt.Fprintf(&b, "Server settings of %s would change: %s", label, strings.Join(sortedKeys(changes), ", "))
	default:
		fmt.Fprintf(&b, "Server settings of %s updated: %s", label, strings.Join(sortedKeys(changes), ", "))
	}
	for _, k := range sortedCopy(w.skipped) {
		fmt.Fprintf(&b, "; %s ignored: %s", k, obsoleteKeys[k])
	}
	return b.String()
}

func orNone(s string) string {
	if s == "" {
		return "unset"
	}
	return s
}

// settleTime bounds how long a write may take to show in GET /1.0: under
// load a member can answer from its in-memory config before the raft
// commit has reached it (seen once in a few hundred lab runs).
const settleTime = 2 * time.Second

// settleSettings re-reads the server config until it holds what w wants,
// at most settleTime, and returns the keys that still differ.
func settleSettings(ctx context.Context, view incus.InstanceServer, w *settingsWant) (map[string]any, error) {
	deadline := time.Now().Add(settleTime)
	for {
		after, err := readServer(view)
		if err != nil {
			return nil, err
		}
		_, left, _ := w.diff(after)
		if len(left) == 0 || time.Now().After(deadline) {
			return left, nil
		}
		select {
		case <-ctx.Done():
			return left, nil
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// stalledFor probes the cluster's members before a write (see
// probeMembers) and describes those that would hold it: Incus notifies
// every member of a PUT /1.0, member-local keys included, before it
// answers, and a cluster-wide value is stored only then.
func (m *Module) stalledFor(ctx context.Context, c *call) (string, error) {
	_, s, err := m.targetConn(ctx, c)
	if err != nil {
		return "", err
	}
	self, err := readServer(s)
	if err != nil {
		return "", err
	}
	members, err := s.GetClusterMembers()
	if err != nil {
		return "", fmt.Errorf("failed to list cluster members: %w", err)
	}
	l := probeMembers(ctx, members, "", self.name)
	return l.describeDown(l.stalled), nil
}
