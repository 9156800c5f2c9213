// Package gittest gives tests a real Git remote: a bare repository with a
// main branch and a clone to commit and push from (git CLI).
package gittest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Remote is a bare repository (Bare) and a clone of it (Work).
type Remote struct {
	t    testing.TB
	Bare string
	Work string
}

// Git runs git in dir with a fixed identity and no user or system
// configuration, failing the test on error; it returns the trimmed output.
func Git(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_NOSYSTEM=1", "HOME="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// New creates a bare repository with branch main and a clone of it.
func New(t testing.TB) *Remote {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatalf("git is required (scripts/install-deps.sh installs it): %v", err)
	}
	dir := t.TempDir()
	r := &Remote{t: t, Bare: filepath.Join(dir, "remote.git"), Work: filepath.Join(dir, "work")}
	Git(t, dir, "init", "--quiet", "--bare", "--initial-branch=main", r.Bare)
	Git(t, dir, "init", "--quiet", "--initial-branch=main", r.Work)
	Git(t, r.Work, "remote", "add", "origin", r.Bare)
	return r
}

// Commit writes files (path -> content; "" deletes), commits and pushes
// to branch; it returns the commit's hash.
func (r *Remote) Commit(branch string, files map[string]string) string {
	r.t.Helper()
	for name, data := range files {
		p := filepath.Join(r.Work, name)
		if data == "" {
			os.Remove(p)
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			r.t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			r.t.Fatal(err)
		}
	}
	Git(r.t, r.Work, "add", "-A")
	Git(r.t, r.Work, "commit", "--quiet", "--allow-empty", "-m", "change")
	Git(r.t, r.Work, "push", "--quiet", "--force", "origin", "HEAD:"+branch)
	return Git(r.t, r.Work, "rev-parse", "HEAD")
}

// Push is Commit to main.
func (r *Remote) Push(files map[string]string) string {
	r.t.Helper()
	return r.Commit("main", files)
}
