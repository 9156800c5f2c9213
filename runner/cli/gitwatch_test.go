package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/statectl/statectl/runner/gitsrc/gittest"
	"github.com/statectl/statectl/runner/watch"
)

const gitAppSLS = "{% for i in range(pillar['n']) %}\nstate-{{ i }}:\n  test.succeed_without_changes: []\n{% endfor %}\n"

// gitWatcher is a watcher of node2 (test states, no daemon) following
// remote's main branch; passes are run by hand.
func gitWatcher(t *testing.T, remote string, extra ...string) (*watcher, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	dir := t.TempDir()
	write(t, filepath.Join(dir, "roster.yaml"), "node2: {}\n")
	write(t, filepath.Join(dir, "statectl.yaml"), "{}\n")
	args := []string{"watch", "node2", "--git", remote, "--git-ref", "main", "--git-cache", filepath.Join(dir, "cache"),
		"--git-poll", "1h", "--roster", filepath.Join(dir, "roster.yaml"), "--config", filepath.Join(dir, "statectl.yaml"),
		"--lock-dir", filepath.Join(dir, "locks")}
	args = append(args, extra...)
	w, log, stderr := testWatcher(t, "node2", args)
	a := w.a
	repo, err := a.gitRepo()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	a.ctx = ctx
	w.startFollow(repo)
	return w, log, stderr
}

func gitPass(t *testing.T, w *watcher, log, stderr *bytes.Buffer, seq int, trigger watch.Trigger, want watch.Outcome) watch.Record {
	t.Helper()
	log.Reset()
	if out := w.pass(context.Background(), watch.PassInfo{Seq: seq, Trigger: trigger}); out != want {
		t.Fatalf("pass %d: %s, want %s\nlog: %s\nstderr:\n%s", seq, out, want, log, stderr)
	}
	var rec watch.Record
	if err := json.Unmarshal(log.Bytes(), &rec); err != nil {
		t.Fatalf("pass %d record %q: %v", seq, log.String(), err)
	}
	return rec
}

// TestWatchGitFollows: watch --git applies the fetched commit and names it
// in every record; a commit that fails to render is refused (the record
// says which and why) and the last good commit stays applied; an
// unreachable remote keeps it too; a fixed commit is applied again.
func TestWatchGitFollows(t *testing.T) {
	g := gittest.New(t)
	c1 := g.Push(map[string]string{
		"states/top.sls": "base:\n  '*':\n    - app\n", "states/app.sls": gitAppSLS,
		"pillar/top.sls": "base:\n  '*':\n    - site\n", "pillar/site.sls": "n: 1\n"})
	w, log, stderr := gitWatcher(t, "file://"+g.Bare)
	f := w.follow

	rec := gitPass(t, w, log, stderr, 1, watch.Start, watch.OK)
	if rec.Commit != c1 || rec.States != 1 || rec.FailedCommit != "" {
		t.Fatalf("first pass: %+v", rec)
	}
	if !strings.Contains(stderr.String(), "pass 1 node2 @"+c1[:12]+": ok") {
		t.Fatalf("progress does not name the commit:\n%s", stderr)
	}

	c2 := g.Push(map[string]string{"pillar/site.sls": "n: 2\n"})
	if err := f.FetchNow(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-f.Changed():
	default:
		t.Fatal("a new commit did not signal the loop")
	}
	if rec = gitPass(t, w, log, stderr, 2, watch.Commit, watch.OK); rec.Commit != c2 || rec.States != 2 {
		t.Fatalf("pass on the new commit: %+v", rec)
	}

	// A broken template: refused; the pass runs c2 again.
	c3 := g.Push(map[string]string{"states/app.sls": gitAppSLS + "{% if %}\n"})
	if err := f.FetchNow(context.Background()); err != nil {
		t.Fatal(err)
	}
	rec = gitPass(t, w, log, stderr, 3, watch.Commit, watch.OK)
	if rec.Commit != c2 || rec.States != 2 || rec.FailedCommit != c3 || !strings.Contains(rec.FailedCommitError, "base:app") {
		t.Fatalf("pass with a broken commit: %+v", rec)
	}
	// And stays refused: the next pass does not try it again.
	if rec = gitPass(t, w, log, stderr, 4, watch.Interval, watch.OK); rec.Commit != c2 || rec.FailedCommit != c3 {
		t.Fatalf("pass after the refusal: %+v", rec)
	}
	if n := strings.Count(stderr.String(), "refusing commit "+c3[:12]); n != 1 {
		t.Fatalf("commit refused %d times, want once:\n%s", n, stderr)
	}

	// The remote goes away: the last good commit stays applied, the
	// record says why the fetch failed.
	if err := os.Rename(g.Bare, g.Bare+".gone"); err != nil {
		t.Fatal(err)
	}
	if err := f.FetchNow(context.Background()); err == nil {
		t.Fatal("fetch of a missing remote succeeded")
	}
	rec = gitPass(t, w, log, stderr, 5, watch.Interval, watch.OK)
	if rec.Commit != c2 || rec.GitError == "" || rec.States != 2 {
		t.Fatalf("pass with the remote gone: %+v", rec)
	}
	if err := os.Rename(g.Bare+".gone", g.Bare); err != nil {
		t.Fatal(err)
	}

	// Fixed: applied.
	c4 := g.Push(map[string]string{"states/app.sls": gitAppSLS, "pillar/site.sls": "n: 3\n"})
	if err := f.FetchNow(context.Background()); err != nil {
		t.Fatal(err)
	}
	rec = gitPass(t, w, log, stderr, 6, watch.Commit, watch.OK)
	if rec.Commit != c4 || rec.States != 3 || rec.FailedCommit != "" || rec.GitError != "" {
		t.Fatalf("pass on the fixed commit: %+v", rec)
	}
	if f.Good() != c4 {
		t.Fatalf("good commit %s, want %s", f.Good(), c4)
	}
}

// TestWatchGitFirstCommitBad: with no good commit to fall back to, a
// broken first commit runs nothing: a terminal record names it.
func TestWatchGitFirstCommitBad(t *testing.T) {
	g := gittest.New(t)
	c1 := g.Push(map[string]string{"states/top.sls": "base:\n  '*':\n    - app\n", "states/app.sls": "{% if %}\n"})
	w, log, stderr := gitWatcher(t, g.Bare)
	rec := gitPass(t, w, log, stderr, 1, watch.Start, watch.Terminal)
	if rec.Commit != "" || rec.FailedCommit != c1 || rec.Error != "no good commit to apply" || rec.States != 0 {
		t.Fatalf("record: %+v", rec)
	}
	// SIGHUP forgets the refusal (the cause may have been local) and
	// tries the commit again.
	rec = gitPass(t, w, log, stderr, 2, watch.Reload, watch.Terminal)
	if rec.FailedCommit != c1 || strings.Count(stderr.String(), "refusing commit") != 2 {
		t.Fatalf("after reload: %+v\n%s", rec, stderr)
	}
}

// TestWatchGitNoCommit: a remote that never answered fails the pass (it
// is retried) and says so.
func TestWatchGitNoCommit(t *testing.T) {
	w, log, stderr := gitWatcher(t, filepath.Join(t.TempDir(), "missing.git"))
	rec := gitPass(t, w, log, stderr, 1, watch.Start, watch.Failed)
	if !strings.Contains(rec.Error, "no commit of") || rec.GitError == "" {
		t.Fatalf("record: %+v", rec)
	}
}

// TestWatchGitAllowedSigners: with --git-allowed-signers, a commit signed
// by a listed key is applied; an unsigned one and one signed by another
// key are refused like broken ones (the last good commit stays applied)
// and the record says why.
func TestWatchGitAllowedSigners(t *testing.T) {
	g := gittest.New(t)
	key, allowed := gittest.SSHKey(t)
	other, _ := gittest.SSHKey(t)
	signers := filepath.Join(t.TempDir(), "allowed_signers")
	write(t, signers, allowed)
	g.SigningKey = key
	c1 := g.Push(map[string]string{
		"states/top.sls": "base:\n  '*':\n    - app\n", "states/app.sls": gitAppSLS,
		"pillar/top.sls": "base:\n  '*':\n    - site\n", "pillar/site.sls": "n: 1\n"})
	w, log, stderr := gitWatcher(t, g.Bare, "--git-allowed-signers", signers)
	f := w.follow
	if rec := gitPass(t, w, log, stderr, 1, watch.Start, watch.OK); rec.Commit != c1 || rec.States != 1 {
		t.Fatalf("signed commit: %+v", rec)
	}
	for i, signWith := range []string{"", other} {
		g.SigningKey = signWith
		bad := g.Push(map[string]string{"pillar/site.sls": fmt.Sprintf("n: %d\n", i+5)})
		if err := f.FetchNow(context.Background()); err != nil {
			t.Fatal(err)
		}
		rec := gitPass(t, w, log, stderr, 2+i, watch.Commit, watch.OK)
		if rec.Commit != c1 || rec.States != 1 || rec.FailedCommit != bad ||
			!strings.Contains(rec.FailedCommitError, "is not signed by a key in "+signers) {
			t.Fatalf("commit signed with %q: %+v", signWith, rec)
		}
	}
	g.SigningKey = key
	c4 := g.Push(map[string]string{"pillar/site.sls": "n: 3\n"})
	if err := f.FetchNow(context.Background()); err != nil {
		t.Fatal(err)
	}
	if rec := gitPass(t, w, log, stderr, 4, watch.Commit, watch.OK); rec.Commit != c4 || rec.States != 3 || rec.FailedCommit != "" {
		t.Fatalf("signed again: %+v", rec)
	}
}
