// Package file is Salt's `file` state module, reduced to file.managed and
// file.absent. It is statectl's example plugin (runner/cmd/statectl-module-file
// serves it out of process) and runs in-process in tests, so one module
// shows that both kinds behave alike.
//
// Plan only reads. It records a fingerprint of the file it read (content
// hash, mode, owner) in Plan.Private, and Apply refuses to write when the
// file changed since, like the incus module's ETags.
//
// Deliberate differences from Salt:
//   - mode must be a quoted string ("0644"): statectl's YAML reads an
//     unquoted 0644 as the number 420, which cannot be told from a mode
//     written 420, so a number is refused instead of guessed;
//   - a template source is rendered by statectl's Jinja (gonja) with the
//     target's grains and pillar; only `template: jinja` is supported.
package file

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/statectl/statectl/runner/module"
)

// Name is the module name.
const Name = "file"

// Module is the file state module. The zero value is ready to use.
type Module struct{}

var _ module.Module = Module{}

// New returns the file module.
func New() Module { return Module{} }

// Name implements module.Module.
func (Module) Name() string { return Name }

// Functions implements module.Module.
func (Module) Functions() []module.FuncSpec { return specs }

var specs = []module.FuncSpec{managedSpec, absentSpec}

// Validate implements module.Module.
func (Module) Validate(call *module.Call) error {
	switch call.Function {
	case "managed":
		return validateManaged(call)
	case "absent":
		return validateAbsent(call)
	}
	return fmt.Errorf("unknown function file.%s", call.Function)
}

// Plan implements module.Module. It never writes.
func (Module) Plan(ctx context.Context, call *module.Call) (*module.Plan, error) {
	switch call.Function {
	case "managed":
		return planManaged(call)
	case "absent":
		return planAbsent(call)
	}
	return nil, fmt.Errorf("unknown function file.%s", call.Function)
}

// Apply implements module.Module.
func (Module) Apply(ctx context.Context, call *module.Call, plan *module.Plan) (*module.Outcome, error) {
	if plan != nil && plan.Fail {
		// The engine applies a plan predicting failure so the failure is
		// reported as the result; the plan already says why.
		return &module.Outcome{Failed: true, Comment: plan.Comment}, nil
	}
	switch call.Function {
	case "managed":
		return applyManaged(call, plan)
	case "absent":
		return applyAbsent(call)
	}
	return nil, fmt.Errorf("unknown function file.%s", call.Function)
}

// path returns the state's absolute, cleaned path (its name).
func path(call *module.Call) (string, error) {
	name := module.StringArg(call.Args, "name", call.Name)
	if name == "" {
		return "", errors.New("name (the path) is empty")
	}
	if !filepath.IsAbs(name) {
		return "", fmt.Errorf("name must be an absolute path, got %q", name)
	}
	return filepath.Clean(name), nil
}

// info is what Plan read about a path.
type info struct {
	exists  bool
	dir     bool
	content []byte // regular files only
	mode    fs.FileMode
	uid     int
	gid     int
}

// read stats (following symlinks, as Salt does) and reads the file.
func read(p string) (*info, error) {
	fi, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return &info{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("failed to stat %s: %w", p, err)
	}
	in := &info{exists: true, dir: fi.IsDir(), mode: fi.Mode().Perm()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		in.uid, in.gid = int(st.Uid), int(st.Gid)
	}
	if fi.Mode().IsRegular() {
		if in.content, err = os.ReadFile(p); err != nil {
			return nil, fmt.Errorf("failed to read %s: %w", p, err)
		}
	}
	return in, nil
}

// fingerprint identifies what Plan saw, for Apply's staleness check.
func (in *info) fingerprint() string {
	if !in.exists {
		return "absent"
	}
	sum := sha256.Sum256(in.content)
	return fmt.Sprintf("%t:%s:%04o:%d:%d", in.dir, hex.EncodeToString(sum[:]), in.mode, in.uid, in.gid)
}

// lookupUser returns the uid of a user name (or numeric id).
func lookupUser(name string) (int, error) {
	if id, err := strconv.Atoi(name); err == nil {
		return id, nil
	}
	u, err := user.Lookup(name)
	if err != nil {
		return 0, fmt.Errorf("User %s is not available", name)
	}
	return strconv.Atoi(u.Uid)
}

// lookupGroup returns the gid of a group name (or numeric id).
func lookupGroup(name string) (int, error) {
	if id, err := strconv.Atoi(name); err == nil {
		return id, nil
	}
	g, err := user.LookupGroup(name)
	if err != nil {
		return 0, fmt.Errorf("Group %s is not available", name)
	}
	return strconv.Atoi(g.Gid)
}
