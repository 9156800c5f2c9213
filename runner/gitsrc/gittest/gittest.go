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
	// SigningKey, if set, is the SSH private key Commit signs with.
	SigningKey string
}

// SSHKey makes an ed25519 key pair without a passphrase in a temporary
// directory; it returns the private key's path and an allowed-signers
// line for it (git's gpg.ssh.allowedSignersFile format).
func SSHKey(t testing.TB) (key, allowed string) {
	t.Helper()
	key = filepath.Join(t.TempDir(), "id_ed25519")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "t@example.com", "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen (package openssh-client): %v\n%s", err, out)
	}
	pub, err := os.ReadFile(key + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	return key, "t@example.com " + strings.TrimSpace(string(pub)) + "\n"
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
	if r.SigningKey != "" {
		Git(r.t, r.Work, "-c", "gpg.format=ssh", "-c", "user.signingkey="+r.SigningKey, "commit", "-S", "--quiet", "--allow-empty", "-m", "change")
	} else {
		Git(r.t, r.Work, "commit", "--quiet", "--allow-empty", "-m", "change")
	}
	Git(r.t, r.Work, "push", "--quiet", "--force", "origin", "HEAD:"+branch)
	return Git(r.t, r.Work, "rev-parse", "HEAD")
}

// Push is Commit to main.
func (r *Remote) Push(files map[string]string) string {
	r.t.Helper()
	return r.Commit("main", files)
}
