package watch_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/statectl/statectl/runner/gitsrc/gittest"
	"github.com/statectl/statectl/runner/watch"
)

// gitSettingsSLS sets driftKey from the pillar on the target's daemon.
const gitSettingsSLS = "gitops:\n  incus.settings_present:\n    - config:\n        " + driftKey + ": \"{{ pillar['interval'] }}\"\n"

// TestWatchGitOnLab: a statectl watch process follows a real bare
// repository's branch against a real daemon. A pushed commit that changes
// the pillar is applied (the daemon's setting follows, the record names
// the commit); a pushed commit that fails to render is never applied (the
// setting stays, the record names the refused commit); out-of-band drift
// is still corrected to the last good commit.
func TestWatchGitOnLab(t *testing.T) {
	e := newEnv(t, 1)
	g := gittest.New(t)
	c1 := g.Push(map[string]string{
		"states/top.sls": "base:\n  '*':\n    - site\n", "states/site.sls": gitSettingsSLS,
		"pillar/top.sls": "base:\n  '*':\n    - site\n", "pillar/site.sls": "interval: \"7\"\n"})
	// The trees come from the repository: drop the lab's --states/--pillar.
	var flags []string
	for i := 0; i < len(e.flags); i++ {
		if e.flags[i] == "--states" || e.flags[i] == "--pillar" {
			i++
			continue
		}
		flags = append(flags, e.flags[i])
	}
	e.flags = append(flags, "--git", "file://"+g.Bare, "--git-ref", "main", "--git-poll", "200ms",
		"--git-cache", filepath.Join(e.dir, "gitcache"))

	w := e.watch("node1", "--interval", "1h", "--debounce", "100ms")
	rec, seen := w.waitRecord(0, time.Minute, func(r watch.Record) bool { return r.Commit == c1 && r.Outcome == "ok" })
	if v := e.config("node1", driftKey); v != "7" {
		t.Fatalf("%s = %q after commit %s, want 7 (record %+v)", driftKey, v, c1[:12], rec)
	}

	c2 := g.Push(map[string]string{"pillar/site.sls": "interval: \"8\"\n"})
	rec, seen = w.waitRecord(seen, time.Minute, func(r watch.Record) bool { return r.Commit == c2 })
	if rec.Outcome != "ok" || rec.Corrected != 1 || rec.Trigger != watch.Commit {
		t.Fatalf("pass on the new commit: %+v", rec)
	}
	if v := e.config("node1", driftKey); v != "8" {
		t.Fatalf("%s = %q after commit %s, want 8", driftKey, v, c2[:12])
	}

	c3 := g.Push(map[string]string{"pillar/site.sls": "interval: \"9\"\n", "states/site.sls": gitSettingsSLS + "{% if %}\n"})
	rec, seen = w.waitRecord(seen, time.Minute, func(r watch.Record) bool { return r.FailedCommit == c3 })
	if rec.Commit != c2 || rec.FailedCommitError == "" {
		t.Fatalf("pass with a broken commit: %+v", rec)
	}
	if v := e.config("node1", driftKey); v != "8" {
		t.Fatalf("%s = %q: the refused commit %s was applied", driftKey, v, c3[:12])
	}

	// Drift is corrected to the last good commit, not the refused one.
	e.setConfig("node1", driftKey, "5")
	rec, _ = w.waitRecord(seen, time.Minute, func(r watch.Record) bool { return r.Corrected > 0 })
	if rec.Commit != c2 {
		t.Fatalf("drift corrected from commit %s, want %s: %+v", rec.Commit, c2, rec)
	}
	if v := e.config("node1", driftKey); v != "8" {
		t.Fatalf("%s = %q after the drift correction, want 8", driftKey, v)
	}
	if code := w.stop(); code != 0 {
		t.Fatalf("watch exit %d\n%s", code, w.stderrText())
	}
}
