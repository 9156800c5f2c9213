// Package planfile saves what a test run planned (`statectl plan -o FILE`)
// and checks it before `statectl apply --plan FILE` applies it, so what a
// reviewer approved is what runs, or nothing runs.
//
// A plan file holds, per target, every state's plan (tag, changes, comment,
// predicted failure and the module's Private data, which carries the ETags
// read at plan time), a digest of the target's compiled states, and a
// digest of the inputs (state tree, pillar tree, roster, pillar override,
// target expression, SLS list, statectl version).
//
// Applying a plan happens in two phases:
//
//  1. Check: inputs are digested again and every state is planned again
//     (read-only). Any difference in an input, a compiled state, or a
//     state's changes, predicted failure or Private data (an ETag) makes the
//     whole plan stale; nothing is applied.
//  2. Apply: states are applied in order, each re-planned at its turn as in
//     any apply. Until some state has changed something, a state's plan must
//     still equal the saved one. After a change, later states may see the
//     system the earlier apply produced (settings after a join): their fresh
//     plan is accepted when it is converged or changes only keys the saved
//     plan changed; anything beyond the saved plan fails that state.
package planfile

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/statectl/statectl/runner/module"
	"github.com/statectl/statectl/runner/report"
	"github.com/statectl/statectl/runner/secret"
	"github.com/statectl/statectl/runner/state"
)

// Version is the plan file format version.
const Version = 1

// File is a saved plan.
type File struct {
	Version  int       `json:"version"`
	Statectl string    `json:"statectl_version"`
	Created  time.Time `json:"created"`
	Inputs   Inputs    `json:"inputs"`
	Targets  []*Target `json:"targets"`
}

// Inputs identify what the plan was made from. Trees and files are sha256
// digests; "absent" marks a missing one.
type Inputs struct {
	Digest         string   `json:"digest"` // over every field below
	Expr           string   `json:"target"`
	SLS            []string `json:"sls"`
	States         string   `json:"states"`
	Pillar         string   `json:"pillar"`
	Roster         string   `json:"roster"`
	PillarOverride string   `json:"pillar_override"`
	Statectl       string   `json:"statectl_version"`
}

// Target is one target's plan.
type Target struct {
	Target string `json:"target"`
	// Compiled is the digest of the target's compiled states (IDs,
	// functions, arguments, requisites, order): it changes when grains do.
	Compiled string   `json:"compiled"`
	States   []*State `json:"states"`
}

// State is one state's saved plan. Result is the test-mode result (true,
// false, or null for would change).
type State struct {
	Tag     string          `json:"tag"`
	ID      string          `json:"id"`
	Result  *bool           `json:"result"`
	Changes map[string]any  `json:"changes,omitempty"`
	Comment string          `json:"comment,omitempty"`
	Fail    bool            `json:"fail,omitempty"`
	Private json.RawMessage `json:"private,omitempty"`
}

// Target returns the named target's plan.
func (f *File) Target(name string) *Target {
	for _, t := range f.Targets {
		if t.Target == name {
			return t
		}
	}
	return nil
}

// Names lists the targets in plan order.
func (f *File) Names() []string {
	out := make([]string, len(f.Targets))
	for i, t := range f.Targets {
		out[i] = t.Target
	}
	return out
}

// Write saves f to path (0600: module Private data is not for everyone).
func Write(path string, f *File) error {
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("failed to encode plan: %w", err)
	}
	// A fresh temporary file (O_EXCL, 0600) in the target directory, then a
	// rename: a fixed FILE.tmp name would let a symlink planted there
	// redirect the write to any file we may write.
	tf, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("failed to write plan: %w", err)
	}
	tmp := tf.Name()
	_, err = tf.Write(append(data, '\n'))
	if err == nil {
		err = tf.Chmod(0o600)
	}
	if cerr := tf.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("failed to write plan: %w", err)
	}
	return nil
}

// Read loads a plan file.
func Read(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("failed to read plan: %w", err)
	}
	var f File
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("failed to read plan %s: %w", path, err)
	}
	if f.Version != Version {
		return nil, fmt.Errorf("failed to read plan %s: format version %d, this statectl reads version %d", path, f.Version, Version)
	}
	return &f, nil
}

// Recorder collects a target's plans in a test run; use Check as the
// engine's PlanCheck.
type Recorder struct {
	T *Target
}

// NewRecorder starts a target's plan.
func NewRecorder(target string, c *state.Compiled) *Recorder {
	return &Recorder{T: &Target{Target: target, Compiled: CompiledDigest(c)}}
}

// Check records p and returns it unchanged.
func (r *Recorder) Check(s *state.State, p *module.Plan, _ []*state.Result) (*module.Plan, error) {
	r.T.States = append(r.T.States, saved(s, p))
	return p, nil
}

// Finish fills each state's test-mode result from the run's results.
func (r *Recorder) Finish(results []*state.Result) {
	byTag := map[string]*state.Result{}
	for _, res := range results {
		byTag[res.Tag] = res
	}
	for _, s := range r.T.States {
		if res := byTag[s.Tag]; res != nil {
			s.Result = res.Result
		}
	}
}

func saved(s *state.State, p *module.Plan) *State {
	out := &State{Tag: s.Tag(), ID: s.ID, Comment: p.Comment, Fail: p.Fail, Private: compact(p.Private)}
	if len(p.Changes) > 0 {
		out.Changes, _ = secret.MaskTree(p.Changes).(map[string]any)
	}
	return out
}

func compact(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return nil
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return raw
	}
	return b.Bytes()
}

// same reports whether a fresh plan equals a saved one: the same changes
// (secrets masked, as saved), predicted failure and Private data.
func same(saved, fresh *State) bool {
	return saved.Fail == fresh.Fail &&
		bytes.Equal(compact(saved.Private), compact(fresh.Private)) && // a file holds it indented
		canonical(saved.Changes) == canonical(fresh.Changes)
}

// canonical is a value's JSON with sorted keys and normalised numbers, so
// a plan read back from a file compares equal to the one that was written.
func canonical(v map[string]any) string {
	if len(v) == 0 {
		return "{}"
	}
	data, err := json.Marshal(report.Normalize(v))
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(data)
}

// CompiledDigest digests what a run executes. Secret argument values
// only enter the hash, never the file.
func CompiledDigest(c *state.Compiled) string {
	type dep struct {
		Kind  string `json:"kind"`
		Index int    `json:"index"`
	}
	type st struct {
		Tag      string         `json:"tag"`
		Args     map[string]any `json:"args"`
		Deps     []dep          `json:"deps"`
		Failhard bool           `json:"failhard"`
		Timeout  time.Duration  `json:"timeout"`
	}
	list := make([]st, len(c.States))
	for i, s := range c.States {
		deps := make([]dep, len(s.Deps))
		for j, d := range s.Deps {
			deps[j] = dep{Kind: string(d.Kind), Index: d.Index}
		}
		list[i] = st{Tag: s.Tag(), Args: s.Args, Deps: deps, Failhard: s.Failhard, Timeout: s.Timeout}
	}
	data, err := json.Marshal(report.Normalize(list))
	if err != nil {
		data = []byte(fmt.Sprint(list))
	}
	return digest(data)
}

func digest(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// changeKeys lists the top-level change keys of a plan.
func changeKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
