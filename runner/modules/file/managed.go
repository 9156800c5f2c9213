package file

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	udiff "github.com/aymanbagabas/go-udiff"

	"github.com/statectl/statectl/runner/module"
	"github.com/statectl/statectl/runner/render"
)

var managedSpec = module.FuncSpec{
	Name: "managed",
	Doc: "Manages a file's contents, mode and owner, as Salt's file.managed. The contents come from " +
		"`contents` or from a `source` file in the state tree (rendered with Jinja when `template: jinja`); " +
		"with neither, the file is created empty if missing and only its mode and owner are managed. " +
		"Changes carry a unified `diff` (`New file` for a new one).",
	Args: []module.ArgSpec{
		{Name: "name", Type: module.TypeString, Required: true,
			Doc: "The absolute path of the file; defaults to the state ID."},
		{Name: "contents", Type: module.TypeString,
			Doc: "The file's contents. Mutually exclusive with source."},
		{Name: "source", Type: module.TypeString,
			Doc: "A file in the state tree to copy: salt://path/in/tree or a path relative to the state root; " +
				"an absolute path names a local file."},
		{Name: "template", Type: module.TypeString,
			Doc: "`jinja` renders source with the state's context (grains, pillar, tpldir); empty copies it verbatim."},
		{Name: "mode", Type: module.TypeString,
			Doc: "The permission bits as a quoted octal string, e.g. \"0644\"; empty leaves them (new files get 0644)."},
		{Name: "user", Type: module.TypeString,
			Doc: "The owning user (name or uid); empty leaves it."},
		{Name: "group", Type: module.TypeString,
			Doc: "The owning group (name or gid); empty leaves it."},
		{Name: "makedirs", Type: module.TypeBool, Default: false,
			Doc: "Create missing parent directories (mode 0755); without it a missing parent fails the state."},
		{Name: "replace", Type: module.TypeBool, Default: true,
			Doc: "Replace the contents of an existing file; false only creates the file when missing."},
		{Name: "contents_newline", Type: module.TypeBool, Default: true,
			Doc: "End contents with a newline when it has none."},
		{Name: "show_changes", Type: module.TypeBool, Default: true,
			Doc: "Report the diff; false reports `<show_changes=False>` instead (for files holding secrets)."},
	},
}

// want is what a file.managed state asks for.
type want struct {
	path     string
	content  []byte // nil: contents not managed
	mode     fs.FileMode
	hasMode  bool
	user     string
	group    string
	uid, gid int
	makedirs bool
	replace  bool
	show     bool
}

func validateManaged(call *module.Call) error {
	if _, err := path(call); err != nil {
		return err
	}
	_, hasContents := call.Args["contents"]
	source := module.StringArg(call.Args, "source", "")
	if hasContents && source != "" {
		return fmt.Errorf("contents and source are mutually exclusive")
	}
	if t := module.StringArg(call.Args, "template", ""); t != "" && t != "jinja" {
		return fmt.Errorf("template %q is not supported (only jinja)", t)
	}
	if t := module.StringArg(call.Args, "template", ""); t != "" && source == "" {
		return fmt.Errorf("template needs a source")
	}
	_, _, err := parseMode(call.Args["mode"])
	return err
}

// parseMode reads mode; see the package doc on why numbers are refused.
func parseMode(v any) (fs.FileMode, bool, error) {
	switch m := v.(type) {
	case nil:
		return 0, false, nil
	case string:
		if m == "" {
			return 0, false, nil
		}
		n, err := strconv.ParseUint(strings.TrimPrefix(m, "0o"), 8, 32)
		if err != nil || n > 0o7777 {
			return 0, false, fmt.Errorf("mode %q is not an octal mode such as \"0644\"", m)
		}
		return fs.FileMode(n), true, nil
	}
	return 0, false, fmt.Errorf("mode must be a quoted octal string such as \"0644\", got the number %v "+
		"(YAML reads an unquoted 0644 as 420)", v)
}

// wanted resolves the call: it renders the source and looks the owner up.
func wanted(call *module.Call) (*want, error) {
	if err := validateManaged(call); err != nil {
		return nil, err
	}
	p, _ := path(call)
	w := &want{
		path:     p,
		user:     module.StringArg(call.Args, "user", ""),
		group:    module.StringArg(call.Args, "group", ""),
		makedirs: module.BoolArg(call.Args, "makedirs", false),
		replace:  module.BoolArg(call.Args, "replace", true),
		show:     module.BoolArg(call.Args, "show_changes", true),
	}
	w.mode, w.hasMode, _ = parseMode(call.Args["mode"])
	var err error
	if w.user != "" {
		if w.uid, err = lookupUser(w.user); err != nil {
			return nil, err
		}
	}
	if w.group != "" {
		if w.gid, err = lookupGroup(w.group); err != nil {
			return nil, err
		}
	}
	if c, ok := call.Args["contents"]; ok {
		s := module.StringArg(call.Args, "contents", "")
		if c == nil {
			s = ""
		}
		if module.BoolArg(call.Args, "contents_newline", true) && !strings.HasSuffix(s, "\n") {
			s += "\n"
		}
		w.content = []byte(s)
	} else if src := module.StringArg(call.Args, "source", ""); src != "" {
		if w.content, err = source(call, src); err != nil {
			return nil, err
		}
	}
	return w, nil
}

// source reads (and renders) a source file from the state tree: salt://
// and relative paths, and absolute paths that lie inside the tree. The read
// goes through os.Root, so a symlink leading out of the tree is refused
// like "..": a state tree must not copy files from elsewhere on the host.
func source(call *module.Call, src string) ([]byte, error) {
	if call.Target == nil || call.Target.StateRoot == "" {
		return nil, fmt.Errorf("source %s: no state tree root to resolve it against", src)
	}
	root := call.Target.StateRoot
	rel := strings.TrimPrefix(src, "salt://")
	if filepath.IsAbs(rel) && !strings.HasPrefix(src, "salt://") {
		absRoot, err := filepath.Abs(root)
		if err != nil {
			return nil, fmt.Errorf("failed to resolve the state root: %w", err)
		}
		if rel, err = filepath.Rel(absRoot, rel); err != nil {
			return nil, fmt.Errorf("source %s: outside the state tree", src)
		}
	}
	rel = filepath.Clean(rel)
	if rel == ".." || strings.HasPrefix(rel, "../") || filepath.IsAbs(rel) {
		return nil, fmt.Errorf("source %s: outside the state tree", src)
	}
	data, err := render.ReadConfined(render.OpenRootFunc(root), filepath.ToSlash(rel))
	if err != nil {
		if strings.Contains(err.Error(), "outside the file root") {
			return nil, fmt.Errorf("source %s: outside the state tree (a symlink leads out of it)", src)
		}
		return nil, fmt.Errorf("source file %s %w", src, err)
	}
	if module.StringArg(call.Args, "template", "") != "jinja" {
		return data, nil
	}
	ctx := &render.Context{SLS: call.SLS}
	if t := call.Target; t != nil {
		ctx.Grains, ctx.Pillar = t.Grains, t.Pillar
	}
	out, err := render.New(root).RenderString(filepath.ToSlash(rel), data, ctx)
	if err != nil {
		return nil, fmt.Errorf("failed to render source %s: %w", src, err)
	}
	return out, nil
}

// private is the plan's data for Apply.
type private struct {
	Before  string `json:"before"`            // fingerprint of what Plan read
	Content []byte `json:"content,omitempty"` // what to write, when contents change
	Write   bool   `json:"write,omitempty"`
}

func planManaged(call *module.Call) (*module.Plan, error) {
	w, err := wanted(call)
	if err != nil {
		return &module.Plan{Fail: true, Comment: err.Error()}, nil
	}
	in, err := read(w.path)
	if err != nil {
		return nil, err
	}
	if in.dir {
		return &module.Plan{Fail: true, Comment: fmt.Sprintf("Specified target %s is a directory", w.path)}, nil
	}
	if !in.exists && !w.makedirs {
		if _, err := os.Stat(filepath.Dir(w.path)); err != nil {
			return &module.Plan{Fail: true, Comment: "Parent directory not present"}, nil
		}
	}
	changes, write := w.diff(in)
	priv := private{Before: in.fingerprint(), Write: write}
	if write {
		priv.Content = w.content
	}
	raw, err := json.Marshal(priv)
	if err != nil {
		return nil, err
	}
	p := &module.Plan{Changes: changes, Private: raw}
	switch {
	case len(changes) == 0:
		p.Comment = fmt.Sprintf("File %s is in the correct state", w.path)
	case call.Test:
		p.Comment = fmt.Sprintf("The file %s is set to be changed\nNote: No changes made, actual changes may\n"+
			"be different due to other states.", w.path)
	}
	if !in.exists && len(changes) > 0 {
		// Salt's test-mode shape for a new file.
		delete(changes, "diff")
		changes["newfile"] = w.path
	}
	return p, nil
}

// diff compares the file with what is wanted: Salt's changes, and whether
// the contents must be written.
func (w *want) diff(in *info) (map[string]any, bool) {
	changes := map[string]any{}
	write := !in.exists
	if in.exists && w.content != nil && w.replace && !bytes.Equal(in.content, w.content) {
		write = true
		changes["diff"] = w.diffText(in.content)
	}
	if !in.exists {
		changes["diff"] = "New file"
	}
	if w.hasMode && (!in.exists || in.mode != w.mode) {
		changes["mode"] = fmt.Sprintf("%04o", w.mode)
	}
	if w.user != "" && (!in.exists || in.uid != w.uid) {
		changes["user"] = w.user
	}
	if w.group != "" && (!in.exists || in.gid != w.gid) {
		changes["group"] = w.group
	}
	return changes, write
}

func (w *want) diffText(old []byte) string {
	switch {
	case !w.show:
		return "<show_changes=False>"
	case binary(old) || binary(w.content):
		return "Replace binary file"
	}
	return udiff.Unified("", "", string(old), string(w.content))
}

func binary(b []byte) bool { return bytes.IndexByte(b, 0) >= 0 || !utf8.Valid(b) }

func applyManaged(call *module.Call, plan *module.Plan) (*module.Outcome, error) {
	w, err := wanted(call)
	if err != nil {
		return &module.Outcome{Failed: true, Comment: err.Error()}, nil
	}
	var priv private
	if err := json.Unmarshal(plan.Private, &priv); err != nil {
		return nil, fmt.Errorf("failed to read the plan of %s: %w", w.path, err)
	}
	in, err := read(w.path)
	if err != nil {
		return nil, err
	}
	if in.fingerprint() != priv.Before {
		return &module.Outcome{Failed: true, Comment: fmt.Sprintf(
			"File %s changed since it was planned; not overwriting it (run again to plan against the new file)", w.path)}, nil
	}
	if priv.Write {
		w.content = priv.Content
	}
	changes, _ := w.diff(in)
	if !in.exists && w.makedirs {
		if err := os.MkdirAll(filepath.Dir(w.path), 0o755); err != nil {
			return nil, fmt.Errorf("failed to create the parent of %s: %w", w.path, err)
		}
	}
	if priv.Write {
		mode := fs.FileMode(0o644)
		if in.exists {
			mode = in.mode
		}
		if err := writeFile(w.path, w.content, mode, in); err != nil {
			return nil, err
		}
	}
	if w.hasMode {
		if err := os.Chmod(w.path, w.mode); err != nil {
			return nil, fmt.Errorf("failed to set the mode of %s: %w", w.path, err)
		}
	}
	if w.user != "" || w.group != "" {
		uid, gid := -1, -1
		if w.user != "" {
			uid = w.uid
		}
		if w.group != "" {
			gid = w.gid
		}
		if err := os.Chown(w.path, uid, gid); err != nil {
			return nil, fmt.Errorf("failed to set the owner of %s: %w", w.path, err)
		}
	}
	return &module.Outcome{Changes: changes, Comment: fmt.Sprintf("File %s updated", w.path)}, nil
}

// writeFile replaces path atomically: a reader sees the old or the new
// contents, never half. An existing file keeps its owner.
func writeFile(path string, data []byte, mode fs.FileMode, old *info) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".statectl-*")
	if err != nil {
		return fmt.Errorf("failed to write %s: %w", path, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after the rename
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, mode)
	}
	if err == nil && old.exists {
		err = os.Chown(tmp, old.uid, old.gid)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		return fmt.Errorf("failed to write %s: %w", path, err)
	}
	return nil
}
