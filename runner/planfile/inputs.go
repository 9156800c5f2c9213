package planfile

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// absent marks a missing tree or file in Inputs.
const absent = "absent"

// InputSpec names the inputs of a run.
type InputSpec struct {
	Expr           string
	SLS            []string
	StatesDir      string
	PillarDir      string
	RosterFile     string
	PillarOverride string
	Statectl       string
}

// Digest reads and digests the inputs named by s.
func Digest(s InputSpec) (Inputs, error) {
	in := Inputs{Expr: s.Expr, SLS: append([]string{}, s.SLS...), Statectl: s.Statectl}
	if in.SLS == nil {
		in.SLS = []string{}
	}
	var err error
	if in.States, err = TreeDigest(s.StatesDir); err != nil {
		return in, err
	}
	if in.Pillar, err = TreeDigest(s.PillarDir); err != nil {
		return in, err
	}
	if in.Roster, err = fileDigest(s.RosterFile); err != nil {
		return in, err
	}
	in.PillarOverride = digest([]byte(strings.TrimSpace(s.PillarOverride)))
	in.Digest = in.sum()
	return in, nil
}

func (in Inputs) sum() string {
	c := in
	c.Digest = ""
	data, _ := json.Marshal(c)
	return digest(data)
}

// Diff names the inputs that differ between in (saved) and now.
func (in Inputs) Diff(now Inputs) []string {
	var out []string
	add := func(what string, a, b string) {
		if a != b {
			out = append(out, what)
		}
	}
	add("target expression", in.Expr, now.Expr)
	add("SLS list", strings.Join(in.SLS, ","), strings.Join(now.SLS, ","))
	add("state tree", in.States, now.States)
	add("pillar tree", in.Pillar, now.Pillar)
	add("roster", in.Roster, now.Roster)
	add("pillar override", in.PillarOverride, now.PillarOverride)
	add("statectl version", in.Statectl, now.Statectl)
	if len(out) == 0 && in.Digest != now.Digest {
		out = append(out, "input digest")
	}
	return out
}

// TreeDigest digests every regular file under dir (paths and contents,
// in path order; .git skipped). A missing dir digests as "absent".
func TreeDigest(dir string) (string, error) {
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return absent, nil
	}
	type entry struct{ path, sum string }
	var files []entry
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == ".git" {
				return filepath.SkipDir
			}
			return nil
		}
		data, err := os.ReadFile(path) // follows symlinks, as the renderer does
		if err != nil {
			if d.Type()&fs.ModeSymlink != 0 {
				return nil // a dangling link cannot be rendered either
			}
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		sum := sha256.Sum256(data)
		files = append(files, entry{filepath.ToSlash(rel), fmt.Sprintf("%x", sum)})
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("failed to digest %s: %w", dir, err)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].path < files[j].path })
	var b strings.Builder
	for _, f := range files {
		b.WriteString(f.path + "\x00" + f.sum + "\n")
	}
	return digest([]byte(b.String())), nil
}

func fileDigest(path string) (string, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return absent, nil
	}
	if err != nil {
		return "", fmt.Errorf("failed to digest %s: %w", path, err)
	}
	return digest(data), nil
}
