// Package slstree is the one front end to an SLS tree (the state root or
// the pillar root): it maps SLS names to files (a.b is a/b.sls, else
// a/b/init.sls), resolves Salt's relative includes, lists the tree's SLS
// names and matches exclude and include globs with Salt's fnmatch rules.
//
// Every file access goes through an os.Root, so the tree is a confinement
// boundary: symlinks are resolved, and one that leads outside the root is
// refused with an error that names the file inside the tree and never
// quotes what it points at. A pull-request tree rendered in CI can
// therefore not read /etc/shadow through `shadow.sls -> /etc/shadow`.
package slstree

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/statectl/statectl/runner/target"
)

// TopFile is the top file below a root; it is not an SLS.
const TopFile = "top.sls"

// Tree is an SLS tree confined to its root directory. The zero value is
// not usable; call Open. A Tree is safe for concurrent reads.
type Tree struct {
	Dir  string // the root as given, for messages
	root *os.Root
	err  error // why the root could not be opened (reported on use)
}

// Open opens the tree at dir. A missing or unreadable dir is not an error
// here: every lookup then reports the file as missing (Exists is false),
// and ReadFile returns the open error, so callers keep their "no top file"
// and "SLS not found" messages.
func Open(dir string) *Tree {
	r, err := os.OpenRoot(dir)
	return &Tree{Dir: dir, root: r, err: err}
}

// Close releases the root directory.
func (t *Tree) Close() error {
	if t.root == nil {
		return nil
	}
	return t.root.Close()
}

// ErrOutside is wrapped by errors for a file whose path or symlinks lead
// outside the tree.
var ErrOutside = errors.New("leads outside the tree (symlinks are followed only within it)")

// confined maps an os.Root failure to an error naming rel only: os.Root
// reports an escaping symlink as "path escapes from parent".
func confined(rel string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: %w", rel, fs.ErrNotExist)
	}
	if strings.Contains(err.Error(), "escapes") || strings.HasPrefix(rel, "../") || path.IsAbs(rel) {
		return fmt.Errorf("%s %w", rel, ErrOutside)
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", rel, pe.Err)
	}
	return fmt.Errorf("%s: %w", rel, err)
}

func (t *Tree) stat(rel string) (fs.FileInfo, error) {
	if t.root == nil {
		return nil, fmt.Errorf("%s: %w", rel, fs.ErrNotExist)
	}
	st, err := t.root.Stat(rel)
	return st, confined(rel, err)
}

// Exists reports whether rel is a regular file inside the tree. A file
// that is a symlink leading outside is reported as an error, not as
// missing, so it is not silently skipped.
func (t *Tree) Exists(rel string) (bool, error) {
	st, err := t.stat(rel)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return st.Mode().IsRegular(), nil
}

// ReadFile reads rel (slash-separated, below the root) within the tree.
func (t *Tree) ReadFile(rel string) ([]byte, error) {
	if t.root == nil {
		return nil, fmt.Errorf("%s: %w", rel, t.err)
	}
	b, err := t.root.ReadFile(rel)
	return b, confined(rel, err)
}

// Resolve finds the file of SLS name: a/b.sls before a/b/init.sls. ok is
// false when neither exists; err is set when a candidate exists but leads
// outside the tree.
func (t *Tree) Resolve(name string) (rel string, isInit, ok bool, err error) {
	base := strings.ReplaceAll(name, ".", "/")
	for _, c := range []struct {
		rel  string
		init bool
	}{{base + ".sls", false}, {base + "/init.sls", true}} {
		found, err := t.Exists(c.rel)
		if err != nil {
			return c.rel, c.init, false, err
		}
		if found {
			return c.rel, c.init, true, nil
		}
	}
	return "", false, false, nil
}

// Names lists the tree's SLS names, sorted (a/b.sls and a/b/init.sls are
// a.b; top.sls is not an SLS). Directories are walked inside the root
// only; a symlinked directory is not descended into.
func (t *Tree) Names() ([]string, error) {
	if t.root == nil {
		return nil, nil
	}
	var names []string
	err := fs.WalkDir(t.root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".sls") || p == TopFile {
			return err
		}
		rel := strings.TrimSuffix(strings.TrimSuffix(p, ".sls"), "/init")
		names = append(names, strings.ReplaceAll(rel, "/", "."))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("failed to list SLS files of %s: %w", t.Dir, err)
	}
	sort.Strings(names)
	return names, nil
}

// Glob returns the tree's SLS names matching pattern (fnmatch), sorted.
func (t *Tree) Glob(pattern string) ([]string, error) {
	names, err := t.Names()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, n := range names {
		if Match(pattern, n) {
			out = append(out, n)
		}
	}
	return out, nil
}

// Match is Salt's fnmatch for SLS patterns (exclude: sls, glob includes):
// "*" crosses dots, "[!x]" negates. A malformed pattern matches nothing.
func Match(pattern, name string) bool {
	m, err := target.Compile(pattern, "glob")
	return err == nil && m.Match(&target.Subject{ID: name})
}

// ErrBeyondTop is returned by Relative for a relative include with more
// dots than the including SLS has levels.
var ErrBeyondTop = errors.New("relative include goes beyond the top of the tree")

// Relative resolves Salt's relative include inc (".x", "..x") against the
// including SLS: one dot is the including file's package (the SLS itself
// for an init.sls), each further dot one level up. A name without a
// leading dot is returned unchanged.
func Relative(inc, sls string, isInit bool) (string, error) {
	if !strings.HasPrefix(inc, ".") {
		return inc, nil
	}
	rest := strings.TrimLeft(inc, ".")
	levels := len(inc) - len(rest)
	comps := strings.Split(sls, ".")
	if isInit {
		comps = append(comps, "init")
	}
	if levels > len(comps) || rest == "" {
		return "", ErrBeyondTop
	}
	return strings.Join(append(comps[:len(comps)-levels:len(comps)-levels], rest), "."), nil
}
