// Package gitsrc fetches the state and pillar trees from a Git repository
// (statectl watch --git, apply --git): a bare mirror per URL in a cache
// directory, and one read-only checkout per commit, so a pass never reads
// a half-updated tree and the renderer's os.Root confinement applies to it
// as to any directory.
//
// It runs the git CLI rather than a Go implementation: ssh and https then
// work exactly as they do for the user's own git (keys and ssh-agent,
// known_hosts, ~/.ssh/config, credential helpers, ~/.gitconfig url
// rewrites, proxies), which a library re-implements only in part.
package gitsrc

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"
)

// DefaultTimeout bounds one git command (a fetch over a slow link).
const DefaultTimeout = 2 * time.Minute

// fetchedRef is where the mirror keeps the commit last fetched at Ref.
const fetchedRef = "refs/statectl/fetched"

// Repo is a remote repository followed at one ref, mirrored under Dir.
type Repo struct {
	// URL as the user gave it (may hold credentials: print Masked).
	URL string
	// Ref is a branch, a tag or a full commit hash ("": the remote's HEAD).
	Ref string
	// Dir holds the bare mirror (repo.git) and the checkouts (trees/).
	Dir string
	// Timeout bounds each git command (default DefaultTimeout).
	Timeout time.Duration
	// Git is the git binary (default "git" on PATH).
	Git string
	// KeepFor spares from Prune the checkouts used this recently (another
	// process sharing the cache may be reading them); 0 spares none.
	KeepFor time.Duration
	// AllowedSigners, if set, is an SSH allowed-signers file (git's
	// gpg.ssh.allowedSignersFile, absolute): Verify accepts only commits
	// signed by a key it lists.
	AllowedSigners string

	mu sync.Mutex // serialises checkouts
}

// New returns the repository of url at ref, cached under cacheRoot (""
// means DefaultCache()) in a directory named after a hash of the URL, so
// two URLs never share a mirror and the directory name leaks no secret.
func New(rawURL, ref, cacheRoot string) (*Repo, error) {
	if strings.TrimSpace(rawURL) == "" {
		return nil, errors.New("empty git URL")
	}
	if strings.HasPrefix(ref, "-") {
		return nil, fmt.Errorf("invalid git ref %q", ref)
	}
	u := rawURL
	if isLocalPath(u) {
		abs, err := filepath.Abs(u)
		if err != nil {
			return nil, err
		}
		u = abs
	}
	if cacheRoot == "" {
		var err error
		if cacheRoot, err = DefaultCache(); err != nil {
			return nil, err
		}
	}
	// Absolute: git resolves GIT_INDEX_FILE from the work tree.
	cacheRoot, err := filepath.Abs(cacheRoot)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(u))
	return &Repo{URL: u, Ref: ref, Dir: filepath.Join(cacheRoot, hex.EncodeToString(sum[:8]))}, nil
}

// DefaultCache is $XDG_CACHE_HOME/statectl/git (else ~/.cache/statectl/git).
func DefaultCache() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("failed to find a cache directory (pass --git-cache DIR): %w", err)
	}
	return filepath.Join(dir, "statectl", "git"), nil
}

// isLocalPath reports whether u is a plain path rather than a URL or
// scp-like address (user@host:path): git resolves a relative path against
// its working directory, which for the mirror is the cache.
func isLocalPath(u string) bool {
	if strings.Contains(u, "://") {
		return false
	}
	colon := strings.Index(u, ":")
	return colon < 0 || strings.Contains(u[:colon], "/")
}

// Masked is the URL with any password or token replaced by "****", for
// every message, log line and record.
func (r *Repo) Masked() string { return MaskURL(r.URL) }

// RefName is Ref, or HEAD when empty.
func (r *Repo) RefName() string {
	if r.Ref == "" {
		return "HEAD"
	}
	return r.Ref
}

var userinfo = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://)([^/@\s]+)@`)

// MaskURL masks the credentials of every URL in s (https://user:token@host
// becomes https://user:****@host; a lone token https://token@host becomes
// https://****@host). ssh usernames (ssh://git@host) are kept: they are
// not secrets.
func MaskURL(s string) string {
	return userinfo.ReplaceAllStringFunc(s, func(m string) string {
		parts := userinfo.FindStringSubmatch(m)
		scheme, info := parts[1], parts[2]
		if strings.HasPrefix(scheme, "ssh") && !strings.Contains(info, ":") {
			return m
		}
		if user, _, ok := strings.Cut(info, ":"); ok {
			return scheme + user + ":****@"
		}
		return scheme + "****@"
	})
}

// Secrets returns the credentials in the URL (password or lone token), for
// a caller that masks secrets in everything it prints.
func (r *Repo) Secrets() []string {
	u, err := url.Parse(r.URL)
	if err != nil || u.User == nil {
		return nil
	}
	if p, ok := u.User.Password(); ok {
		return []string{p, url.QueryEscape(p)}
	}
	if strings.HasPrefix(u.Scheme, "http") {
		return []string{u.User.Username()}
	}
	return nil
}

// Short is the abbreviated hash printed in human output.
func Short(hash string) string {
	if len(hash) > 12 {
		return hash[:12]
	}
	return hash
}

func (r *Repo) mirror() string { return filepath.Join(r.Dir, "repo.git") }
func (r *Repo) trees() string  { return filepath.Join(r.Dir, "trees") }

// git runs git on the mirror. Stderr (masked) is in the error; git never
// prompts (no terminal, GIT_TERMINAL_PROMPT=0), so a watcher cannot hang
// on a password question: it fails, and the caller backs off.
func (r *Repo) git(ctx context.Context, env []string, args ...string) (string, error) {
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	bin := r.Git
	if bin == "" {
		bin = "git"
	}
	cmd := exec.CommandContext(ctx, bin, append([]string{"--git-dir", r.mirror()}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "LC_ALL=C", "GIT_ASKPASS=", "SSH_ASKPASS=")
	cmd.Env = append(cmd.Env, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if ctx.Err() == context.DeadlineExceeded {
			msg = fmt.Sprintf("timed out after %s", timeout)
		} else if msg == "" {
			msg = err.Error()
		}
		msg = strings.ReplaceAll(msg, "\n", "; ")
		for _, s := range r.Secrets() {
			if s != "" {
				msg = strings.ReplaceAll(msg, s, "****")
			}
		}
		return "", errors.New(MaskURL(msg))
	}
	return strings.TrimSpace(stdout.String()), nil
}

// init creates the mirror (0700: its config holds the URL, credentials
// included) on first use.
func (r *Repo) init(ctx context.Context) error {
	if _, err := os.Stat(filepath.Join(r.mirror(), "HEAD")); err == nil {
		return nil
	}
	if err := os.MkdirAll(r.Dir, 0o700); err != nil {
		return fmt.Errorf("failed to create git cache %s: %w", r.Dir, err)
	}
	tmp, err := os.MkdirTemp(r.Dir, ".init-")
	if err != nil {
		return fmt.Errorf("failed to create git cache %s: %w", r.Dir, err)
	}
	defer os.RemoveAll(tmp)
	t := &Repo{URL: r.URL, Dir: tmp, Timeout: r.Timeout, Git: r.Git}
	mirror := filepath.Join(tmp, "repo.git")
	bin := r.Git
	if bin == "" {
		bin = "git"
	}
	if out, err := exec.CommandContext(ctx, bin, "init", "--quiet", "--bare", mirror).CombinedOutput(); err != nil {
		return fmt.Errorf("failed to create git mirror in %s: %s", r.Dir, strings.TrimSpace(string(out)))
	}
	// The URL goes to the mirror's config, not the command line, so a
	// token never shows in ps.
	if _, err := t.git(ctx, nil, "config", "remote.origin.url", r.URL); err != nil {
		return fmt.Errorf("failed to configure git mirror: %w", err)
	}
	if err := os.Rename(mirror, r.mirror()); err != nil && !errors.Is(err, fs.ErrExist) {
		if _, serr := os.Stat(filepath.Join(r.mirror(), "HEAD")); serr != nil {
			return fmt.Errorf("failed to create git mirror: %w", err)
		}
	}
	return nil
}

// Fetch fetches Ref from the remote and returns its commit hash.
func (r *Repo) Fetch(ctx context.Context) (string, error) {
	if err := r.init(ctx); err != nil {
		return "", err
	}
	ref := r.RefName()
	if _, err := r.git(ctx, nil, "fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "origin", "+"+ref+":"+fetchedRef); err != nil {
		return "", fmt.Errorf("failed to fetch %s from %s: %w", ref, r.Masked(), err)
	}
	return r.Cached(ctx)
}

// Cached is the commit last fetched, from the mirror alone (an earlier
// run's fetch when the remote is unreachable at start).
func (r *Repo) Cached(ctx context.Context) (string, error) {
	if _, err := os.Stat(filepath.Join(r.mirror(), "HEAD")); err != nil {
		return "", fmt.Errorf("no cached commit of %s in %s", r.Masked(), r.Dir)
	}
	h, err := r.git(ctx, nil, "rev-parse", "--verify", "--quiet", fetchedRef+"^{commit}")
	if err != nil || h == "" {
		return "", fmt.Errorf("no cached commit of %s in %s", r.Masked(), r.Dir)
	}
	return h, nil
}

var hashRE = regexp.MustCompile(`^[0-9a-f]{40}([0-9a-f]{24})?$`)

// Verify checks that commit hash carries an SSH signature by a key listed
// in AllowedSigners (none set: every commit passes). git verify-commit
// checks it, with ssh-keygen, as `git log --show-signature` would.
func (r *Repo) Verify(ctx context.Context, hash string) error {
	if r.AllowedSigners == "" {
		return nil
	}
	if !hashRE.MatchString(hash) {
		return fmt.Errorf("invalid commit hash %q", hash)
	}
	if _, err := r.git(ctx, nil, "-c", "gpg.ssh.allowedSignersFile="+r.AllowedSigners, "verify-commit", hash); err != nil {
		if err.Error() == "exit status 1" { // git says nothing about a commit without a signature
			err = errors.New("it has no signature")
		}
		return fmt.Errorf("commit %s is not signed by a key in %s: %w", Short(hash), r.AllowedSigners, err)
	}
	return nil
}

// Tree returns a read-only checkout of commit hash, made once: it is
// written to a temporary directory and renamed into place, so a reader
// sees either nothing or the whole tree.
func (r *Repo) Tree(ctx context.Context, hash string) (string, error) {
	if !hashRE.MatchString(hash) {
		return "", fmt.Errorf("invalid commit hash %q", hash)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	dir := filepath.Join(r.trees(), hash)
	if _, err := os.Stat(dir); err == nil {
		now := time.Now()
		_ = os.Chtimes(dir, now, now) // in use: see KeepFor
		return dir, nil
	}
	if err := os.MkdirAll(r.trees(), 0o700); err != nil {
		return "", fmt.Errorf("failed to check out %s: %w", Short(hash), err)
	}
	tmp := filepath.Join(r.trees(), ".tmp-"+hash+"-"+randSuffix())
	index := tmp + ".index"
	defer os.Remove(index)
	if err := os.Mkdir(tmp, 0o755); err != nil {
		return "", fmt.Errorf("failed to check out %s: %w", Short(hash), err)
	}
	// A private index: the mirror has none, and two checkouts must not
	// share one. checkout-index writes what `git checkout` would (smudge
	// filters, symlinks); the renderer confines reads to the tree.
	env := []string{"GIT_INDEX_FILE=" + index}
	_, err := r.git(ctx, env, "--work-tree", tmp, "read-tree", hash)
	if err == nil {
		_, err = r.git(ctx, env, "--work-tree", tmp, "checkout-index", "--all", "--force")
	}
	if err == nil {
		err = readOnly(tmp)
	}
	if err == nil {
		err = os.Rename(tmp, dir)
	}
	if err != nil {
		removeTree(tmp)
		return "", fmt.Errorf("failed to check out %s of %s: %w", Short(hash), r.Masked(), err)
	}
	return dir, nil
}

// Prune removes the checkouts other than keep (and leftovers of an
// interrupted checkout).
func (r *Repo) Prune(keep ...string) error {
	entries, err := os.ReadDir(r.trees())
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var errs []error
	for _, e := range entries {
		if containsStr(keep, e.Name()) {
			continue
		}
		if info, err := e.Info(); err == nil && r.KeepFor > 0 && time.Since(info.ModTime()) < r.KeepFor {
			continue
		}
		if err := removeTree(filepath.Join(r.trees(), e.Name())); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// readOnly drops the write bits of every file and directory under dir.
func readOnly(dir string) error {
	var dirs []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 {
			return nil
		}
		if d.IsDir() {
			dirs = append(dirs, path)
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		return os.Chmod(path, info.Mode().Perm()&^0o222)
	})
	if err != nil {
		return err
	}
	// Directories last, deepest first: a read-only directory refuses new
	// entries, which is the point, but also the chmods of its children.
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := os.Chmod(dirs[i], 0o555); err != nil {
			return err
		}
	}
	return nil
}

// removeTree removes a read-only tree (write bits restored first).
func removeTree(dir string) error {
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(path, 0o755)
		}
		return nil
	})
	return os.RemoveAll(dir)
}

func randSuffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
