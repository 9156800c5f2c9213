package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/statectl/statectl/runner/gitsrc"
)

// gitOptions are the --git flags: the state and pillar trees come from a
// commit of a Git repository instead of the local directories.
type gitOptions struct {
	url   string
	ref   string
	poll  time.Duration
	cache string
	// allowedSigners: apply only commits signed by a key listed there.
	allowedSigners string
}

func addGitFlags(fs *pflag.FlagSet, o *gitOptions) {
	fs.StringVar(&o.url, "git", "", "read the state and pillar trees (--states, --pillar: paths in the repository) from the Git repository `URL` (a path, file://, ssh or https)")
	fs.StringVar(&o.ref, "git-ref", "", "with --git: the branch, tag or full commit hash `REF` to apply (default: the remote's HEAD)")
	fs.DurationVar(&o.poll, "git-poll", gitsrc.DefaultPoll, "statectl watch --git: fetch this often; a new commit runs a pass")
	fs.StringVar(&o.cache, "git-cache", "", "with --git: cache `DIR` for the mirror and the checkouts (default $XDG_CACHE_HOME/statectl/git)")
	fs.StringVar(&o.allowedSigners, "git-allowed-signers", "", "with --git: apply only commits with an SSH signature by a key listed in `FILE` (ssh-keygen's allowed signers format, as git's gpg.ssh.allowedSignersFile)")
}

// gitSource is the commit a run reads its trees from.
type gitSource struct {
	repo   *gitsrc.Repo
	commit string // full hash
	dir    string // its read-only checkout
}

func (g *gitSource) report() map[string]string {
	return map[string]string{"git": g.repo.Masked(), "ref": g.repo.RefName(), "commit": g.commit}
}

// gitRepo checks the --git flags and returns the repository (nil without
// --git). The URL's credentials join the invocation's secrets.
func (a *app) gitRepo() (*gitsrc.Repo, error) {
	o := a.opts.git
	if o.url == "" {
		for _, name := range []string{"git-ref", "git-poll", "git-cache", "git-allowed-signers"} {
			if a.flags.Changed(name) {
				return nil, usageError("e.g. --git https://git.example.com/site.git --git-ref main", "--%s needs --git", name)
			}
		}
		return nil, nil
	}
	if o.poll <= 0 {
		return nil, usageError("e.g. --git-poll 1m", "--git-poll must be positive")
	}
	for _, t := range []struct{ flag, path string }{{"states", a.opts.states}, {"pillar", a.opts.pillar}} {
		if !filepath.IsLocal(filepath.Clean(t.path)) {
			return nil, usageError(fmt.Sprintf("with --git, --%s is a directory of the repository, e.g. --%s %s", t.flag, t.flag, t.flag),
				"--%s %s is not a path inside the repository", t.flag, t.path)
		}
	}
	if a.opts.planFile != "" {
		return nil, usageError("apply the plan without --git: it records the trees it was made from", "--plan and --git cannot be combined")
	}
	repo, err := gitsrc.New(o.url, o.ref, o.cache)
	if err != nil {
		return nil, usageError("", "invalid --git: %w", err)
	}
	if o.allowedSigners != "" {
		abs, err := filepath.Abs(o.allowedSigners)
		if err == nil {
			_, err = os.Stat(abs)
		}
		if err != nil {
			return nil, usageError("one line per key: EMAIL ssh-ed25519 AAAA... (see ssh-keygen(1), ALLOWED SIGNERS)", "--git-allowed-signers: %v", err)
		}
		repo.AllowedSigners = abs
	}
	for _, s := range repo.Secrets() {
		a.secrets.Add(s)
	}
	return repo, nil
}

// trees are the state and pillar trees a session reads: the flags, or,
// with --git, the same paths in the checkout of the commit (fetched here
// once per invocation; watch sets a.source itself at each pass).
func (a *app) trees() (string, string, error) {
	if a.source == nil {
		repo, err := a.gitRepo()
		if err != nil || repo == nil {
			return a.opts.states, a.opts.pillar, err
		}
		h, err := repo.Fetch(a.ctx)
		if err != nil {
			return "", "", &cliError{code: 1, err: err, hint: "check the URL and that `git ls-remote URL` works as this user (keys, credential helper)"}
		}
		if err := repo.Verify(a.ctx, h); err != nil {
			return "", "", &cliError{code: 1, err: err, hint: "sign commits with a key listed there: git config gpg.format ssh; git config user.signingkey ~/.ssh/id_ed25519.pub; git commit -S"}
		}
		dir, err := repo.Tree(a.ctx, h)
		if err != nil {
			return "", "", err
		}
		a.source = &gitSource{repo: repo, commit: h, dir: dir}
		fmt.Fprintf(a.stderr, "statectl: git: %s %s at %s (%s)\n", repo.Masked(), repo.RefName(), gitsrc.Short(h), h)
	}
	return a.source.path(a.opts.states), a.source.path(a.opts.pillar), nil
}

func (g *gitSource) path(rel string) string {
	return filepath.Join(g.dir, strings.TrimPrefix(filepath.Clean(rel), "./"))
}
