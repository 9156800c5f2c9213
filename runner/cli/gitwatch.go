package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/statectl/statectl/runner/gitsrc"
	"github.com/statectl/statectl/runner/watch"
)

// checkoutKeep is how long a checkout no pass uses any more stays in the
// cache: an `apply --git` sharing the cache may still be reading it.
const checkoutKeep = 10 * time.Minute

// passSource is what a watch --git pass reads: the commit, and what its
// records say about the repository.
type passSource struct {
	commit string
	// check: the commit was never applied; compile every target first.
	check bool
	// unchecked: a target could not be compiled for a reason not the
	// commit's (grains unreachable); the commit is not yet good.
	unchecked bool
	// refused is a newer commit that failed to render or compile.
	refused, refusedWhy string
	gitErr              string
}

// decorate names the source in a pass record (nil: local trees).
func (p *passSource) decorate(rec *watch.Record) {
	if p == nil {
		return
	}
	rec.Commit, rec.FailedCommit, rec.FailedCommitError, rec.GitError = p.commit, p.refused, p.refusedWhy, p.gitErr
}

// startFollow fetches the repository once and keeps polling it; a new
// commit runs a pass through the returned channel.
func (w *watcher) startFollow(repo *gitsrc.Repo) <-chan struct{} {
	a := w.a
	repo.KeepFor = checkoutKeep
	w.follow = &gitsrc.Follower{Repo: repo, Poll: a.opts.git.poll,
		Logf: func(format string, args ...any) { w.logf("%s", a.secrets.String(fmt.Sprintf(format, args...))) }}
	w.logf("following %s %s every %s (cache %s)", repo.Masked(), repo.RefName(), a.opts.git.poll, repo.Dir)
	w.follow.Start(a.ctx)
	w.rec.SetGit(w.follow.Status)
	return w.follow.Changed()
}

// gitPass runs a pass on the commit to apply: the commit last fetched,
// unless it was refused, then the last good one. A commit never applied
// is compiled for every target first; if that fails it is refused (the
// record says which and why) and the pass runs the last good commit.
func (w *watcher) gitPass(ctx context.Context, info watch.PassInfo) watch.Outcome {
	a, f := w.a, w.follow
	defer func() { w.cur = nil }()
	switch info.Trigger {
	case watch.Reload:
		// The failure may have been the local inputs'; and fetch now.
		f.Forget()
		_ = f.FetchNow(ctx)
	case watch.Inputs:
		f.Forget()
	}
	for attempt := 0; ; attempt++ {
		head, ferr := f.Head()
		good := f.Good()
		src := &passSource{commit: head}
		if ferr != nil {
			src.gitErr = a.secrets.String(oneLine(ferr))
		}
		if why, bad := f.Bad(head); bad {
			src.commit, src.refused, src.refusedWhy = good, head, why
		}
		w.cur = src
		start := time.Now()
		fail := func(out watch.Outcome, err error) watch.Outcome {
			w.record(watch.Record{Pass: info.Seq, Target: w.expr, Trigger: info.Trigger, Test: a.opts.test, Start: start,
				DurationMS: ms(time.Since(start)), Outcome: out.String(), Error: a.secrets.String(oneLine(err))})
			return out
		}
		if src.commit == "" {
			if head == "" {
				// Nothing fetched yet: the fetches back off; retry too.
				return fail(watch.Failed, fmt.Errorf("no commit of %s fetched yet: %w", f.Repo.Masked(), ferr))
			}
			// The only commit known is bad: wait for another.
			return fail(watch.Terminal, errors.New("no good commit to apply"))
		}
		src.check = src.commit != good
		if src.check {
			// A commit never applied must carry an allowed signature
			// (--git-allowed-signers); refused like a broken one.
			if err := f.Repo.Verify(ctx, src.commit); err != nil {
				if attempt == 0 {
					why := a.secrets.String(oneLine(err))
					f.SetBad(src.commit, why)
					w.logf("git: refusing commit %s: %s", gitsrc.Short(src.commit), why)
					continue
				}
				return fail(watch.Terminal, err)
			}
		}
		dir, err := f.Repo.Tree(ctx, src.commit)
		if err != nil {
			return fail(watch.Failed, err)
		}
		a.source = &gitSource{repo: f.Repo, commit: src.commit, dir: dir}
		out, refused := w.run(ctx, info)
		a.source = nil
		if refused != nil && attempt == 0 {
			why := a.secrets.String(oneLine(refused))
			f.SetBad(src.commit, why)
			w.logf("git: refusing commit %s: %s", gitsrc.Short(src.commit), why)
			continue // the last good commit, or a record saying there is none
		}
		if refused != nil {
			return fail(watch.Terminal, refused)
		}
		if src.check && !src.unchecked && ctx.Err() == nil {
			f.SetGood(src.commit)
			w.logf("git: applied %s", gitsrc.Short(src.commit))
		}
		return out
	}
}
