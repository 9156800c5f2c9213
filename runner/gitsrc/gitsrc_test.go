package gitsrc

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/statectl/statectl/runner/gitsrc/gittest"
)

func TestFetchAndTree(t *testing.T) {
	for _, form := range []string{"path", "file"} {
		t.Run(form, func(t *testing.T) {
			rem := gittest.New(t)
			c1 := rem.Commit("main", map[string]string{"states/top.sls": "base: {}\n", "pillar/site.sls": "n: 1\n"})
			u := rem.Bare
			if form == "file" {
				u = "file://" + rem.Bare
			}
			repo, err := New(u, "main", t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			h, err := repo.Fetch(ctx)
			if err != nil || h != c1 {
				t.Fatalf("Fetch = %q, %v; want %s", h, err, c1)
			}
			dir1, err := repo.Tree(ctx, h)
			if err != nil {
				t.Fatal(err)
			}
			if data, err := os.ReadFile(filepath.Join(dir1, "pillar/site.sls")); err != nil || string(data) != "n: 1\n" {
				t.Fatalf("checkout: %q, %v", data, err)
			}
			// Read-only: a pass must not be able to change what it reads.
			for _, p := range []string{dir1, filepath.Join(dir1, "pillar"), filepath.Join(dir1, "pillar/site.sls")} {
				if fi, err := os.Stat(p); err != nil || fi.Mode().Perm()&0o222 != 0 {
					t.Fatalf("%s: mode %v, %v; want no write bits", p, fi.Mode().Perm(), err)
				}
			}
			if _, err := os.Stat(filepath.Join(dir1, ".git")); err == nil {
				t.Fatal("checkout has a .git")
			}

			// A new commit gets its own tree; the old one is untouched.
			c2 := rem.Commit("main", map[string]string{"pillar/site.sls": "n: 2\n"})
			if h, err = repo.Fetch(ctx); err != nil || h != c2 {
				t.Fatalf("second Fetch = %q, %v; want %s", h, err, c2)
			}
			dir2, err := repo.Tree(ctx, h)
			if err != nil || dir2 == dir1 {
				t.Fatalf("Tree = %q, %v", dir2, err)
			}
			if data, _ := os.ReadFile(filepath.Join(dir1, "pillar/site.sls")); string(data) != "n: 1\n" {
				t.Fatalf("old tree changed: %q", data)
			}
			if again, err := repo.Tree(ctx, c2); err != nil || again != dir2 {
				t.Fatalf("second Tree = %q, %v", again, err)
			}
			if err := repo.Prune(c2); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(dir1); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("pruned tree still there: %v", err)
			}
			if _, err := os.Stat(dir2); err != nil {
				t.Fatalf("kept tree removed: %v", err)
			}
		})
	}
}

func TestRefs(t *testing.T) {
	rem := gittest.New(t)
	onMain := rem.Commit("main", map[string]string{"a": "main\n"})
	gittest.Git(t, rem.Work, "tag", "-a", "-m", "v1", "v1")
	gittest.Git(t, rem.Work, "push", "--quiet", "origin", "v1")
	onDev := rem.Commit("dev", map[string]string{"a": "dev\n"})
	for _, tc := range []struct{ ref, want string }{
		{"", onMain}, // the remote's HEAD: main
		{"main", onMain},
		{"refs/heads/dev", onDev},
		{"dev", onDev},
		{"v1", onMain}, // annotated tag: its commit
		{onMain, onMain},
	} {
		repo, err := New(rem.Bare, tc.ref, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		if h, err := repo.Fetch(context.Background()); err != nil || h != tc.want {
			t.Errorf("ref %q: %q, %v; want %s", tc.ref, h, err, tc.want)
		}
	}
	repo, _ := New(rem.Bare, "nosuch", t.TempDir())
	if _, err := repo.Fetch(context.Background()); err == nil || !strings.Contains(err.Error(), "nosuch") {
		t.Errorf("missing ref: %v", err)
	}
	if _, err := New(rem.Bare, "--upload-pack=x", ""); err == nil {
		t.Error("a ref that is an option was accepted")
	}
}

func TestMaskURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"https://user:s3cret@git.example.com/r.git", "https://user:****@git.example.com/r.git"},
		{"https://ghp_tok3n@github.com/o/r", "https://****@github.com/o/r"},
		{"fatal: unable to access 'https://u:p%40ss@h/r/': 403", "fatal: unable to access 'https://u:****@h/r/': 403"},
		{"ssh://git@host/r.git", "ssh://git@host/r.git"},
		{"git@github.com:o/r.git", "git@github.com:o/r.git"},
		{"/srv/git/r.git", "/srv/git/r.git"},
	} {
		if got := MaskURL(tc.in); got != tc.want {
			t.Errorf("MaskURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestFetchErrorMasked: a fetch that fails names the URL without its
// token, even where git's own message repeats it.
func TestFetchErrorMasked(t *testing.T) {
	// Nothing listens on port 1: connection refused, at once.
	repo, err := New("https://deploy:tok3n-s3cret@127.0.0.1:1/r.git", "main", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	repo.Timeout = 20 * time.Second
	_, err = repo.Fetch(context.Background())
	if err == nil {
		t.Fatal("fetch from a closed port succeeded")
	}
	if strings.Contains(err.Error(), "tok3n") {
		t.Fatalf("token in error: %v", err)
	}
	if !strings.Contains(err.Error(), "https://deploy:****@127.0.0.1:1/r.git") {
		t.Fatalf("error does not name the masked URL: %v", err)
	}
	// Nor on disk outside the mirror's 0700 config.
	if fi, err := os.Stat(repo.Dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("cache dir mode %v, %v", fi.Mode().Perm(), err)
	}
}

// TestFollowerBackoff: a remote that goes away keeps the last commit,
// and the fetches back off exponentially up to the bound, then poll
// normally again once it is back.
func TestFollowerBackoff(t *testing.T) {
	rem := gittest.New(t)
	c1 := rem.Commit("main", map[string]string{"a": "1\n"})
	repo, err := New(rem.Bare, "main", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var logs []string
	var mu sync.Mutex
	f := &Follower{Repo: repo, Poll: time.Second, MaxBackoff: 5 * time.Second,
		Logf: func(format string, args ...any) { mu.Lock(); logs = append(logs, format); mu.Unlock() }}
	ctx := context.Background()
	if err := f.FetchNow(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-f.Changed():
	default:
		t.Fatal("first commit did not signal Changed")
	}
	moved := rem.Bare + ".gone"
	if err := os.Rename(rem.Bare, moved); err != nil {
		t.Fatal(err)
	}
	var delays []time.Duration
	for range 4 {
		if err := f.FetchNow(ctx); err == nil {
			t.Fatal("fetch from a missing remote succeeded")
		}
		delays = append(delays, f.Status().NextFetch)
	}
	want := []time.Duration{2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second}
	for i := range want {
		if delays[i] != want[i] {
			t.Fatalf("backoff %v, want %v", delays, want)
		}
	}
	if h, ferr := f.Head(); h != c1 || ferr == nil {
		t.Fatalf("Head = %s, %v; want the last commit and the error", h, ferr)
	}
	st := f.Status()
	if st.Failures != 4 || st.FetchError == "" {
		t.Fatalf("status %+v", st)
	}
	if err := os.Rename(moved, rem.Bare); err != nil {
		t.Fatal(err)
	}
	c2 := rem.Commit("main", map[string]string{"a": "2\n"})
	if err := f.FetchNow(ctx); err != nil {
		t.Fatal(err)
	}
	if h, ferr := f.Head(); h != c2 || ferr != nil || f.Status().NextFetch != time.Second {
		t.Fatalf("after recovery: %s, %v, next %s", h, ferr, f.Status().NextFetch)
	}
	select {
	case <-f.Changed():
	default:
		t.Fatal("new commit did not signal Changed")
	}
}

// TestFollowerStartCached: a watcher restarted while the remote is
// unreachable starts from the commit the cache fetched before.
func TestFollowerStartCached(t *testing.T) {
	rem := gittest.New(t)
	c1 := rem.Commit("main", map[string]string{"a": "1\n"})
	cache := t.TempDir()
	repo, _ := New(rem.Bare, "main", cache)
	if _, err := repo.Fetch(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(rem.Bare); err != nil {
		t.Fatal(err)
	}
	repo2, _ := New(rem.Bare, "main", cache)
	f := &Follower{Repo: repo2, Poll: time.Hour}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f.Start(ctx)
	if h, ferr := f.Head(); h != c1 || ferr == nil {
		t.Fatalf("Head = %q, %v; want cached %s and the fetch error", h, ferr, c1)
	}
}

func TestFollowerBad(t *testing.T) {
	f := &Follower{Repo: &Repo{URL: "x"}}
	f.SetBad("abc", "render error")
	if why, ok := f.Bad("abc"); !ok || why != "render error" {
		t.Fatal(why, ok)
	}
	f.Forget()
	if _, ok := f.Bad("abc"); ok {
		t.Fatal("Forget kept a bad commit")
	}
}

// TestVerify: with an allowed-signers file, only commits signed by a key
// it lists pass; unsigned ones and ones signed by another key are named
// with git's reason.
func TestVerify(t *testing.T) {
	g := gittest.New(t)
	key, allowed := gittest.SSHKey(t)
	other, _ := gittest.SSHKey(t)
	signers := filepath.Join(t.TempDir(), "allowed_signers")
	if err := os.WriteFile(signers, []byte(allowed), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := New(g.Bare, "main", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	commit := func(signWith string) string {
		g.SigningKey = signWith
		g.Push(map[string]string{"f": signWith + "x"})
		h, err := r.Fetch(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	unsigned := commit("")
	if err := r.Verify(ctx, unsigned); err != nil {
		t.Fatalf("no allowed signers: %v", err)
	}
	r.AllowedSigners = signers
	for _, tc := range []struct {
		name, key, want string
	}{
		{"unsigned", "", "is not signed by a key in " + signers + ": it has no signature"},
		{"another key", other, "is not signed by a key in " + signers + ": Good \"git\" signature with ED25519 key SHA256:"},
		{"allowed key", key, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := commit(tc.key)
			err := r.Verify(ctx, h)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), Short(h)+" "+tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
			t.Log(err)
		})
	}
}
