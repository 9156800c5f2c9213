package cli

const planHelp = `statectl plan TARGET [SLS...] -o FILE

A dry run (apply --test) that also saves, per target, every state's plan:
its changes, comment, predicted failure and the module's private data (the
ETags read), with a digest of the inputs (state tree, pillar tree, roster,
--pillar-override, target, SLS list, statectl version). The report and exit
codes are those of apply --test (--detailed-exitcode: 3 = changes pending).
The file is written only when every target was planned completely.

  statectl plan node2 -o plan.json
  statectl apply --plan plan.json

apply --plan checks the whole plan before applying anything: any changed
input, compiled state, or live object (a state's changes or ETag differ)
refuses it with "plan is stale; plan again" and exit 1. States planned
after an earlier state changed something (settings after a join) may
change only what the saved plan said. See docs/ci.md.
`

const watchHelp = `statectl watch TARGET [SLS...]

Drift correction: a reconcile loop that runs a pass (read roster, pillar,
grains and the live cluster, plan, apply; with --test only report) at
start, every --interval (plus up to --splay) and at once on a cluster
lifecycle event (config-updated, cluster-member-*, cluster-group-*). For
--debounce (default 250ms) after each pass, events are weighed against
the writes the pass sent: its own writes' events are dropped, and any
more coalesce into one follow-up pass when that window ends. A pass that
fails (cluster unreachable, a failed state, the target locked by another
run) is retried with exponential backoff up to the interval; a render,
pillar or compile error waits for the input files to change (or the
interval).

Events come from the target's own daemon, which forwards those of every
other member of its cluster. The stream is pinged: when the member stops
answering for --event-timeout (default 15s; a frozen daemon keeps its
socket open) or its stream breaks, the watcher follows another member of
the cluster that the roster reaches, and runs a pass.

Each pass takes the target's run lock (--lock-dir, --lock-timeout), as
apply does. A pass plans first; only drift makes it take the cluster
lock (the profile statectl-lock, which one watcher at a time can create,
whatever machine it runs on) and plan again from fresh reads before it
corrects, so several watchers of one cluster write a drift once. A pass
that cannot get it within --cluster-lock-wait (default 10s) is deferred
and retried; --cluster-lock=false turns it off. One JSON line per target and pass (with the Incus requests
it sent) goes to --log-file (default stdout); progress goes to stderr. --metrics-addr serves Prometheus metrics
(statectl_*) on /metrics and a health check on /healthz.

Signals: SIGTERM finishes the running pass and exits 0; SIGHUP runs a pass
with freshly read inputs and statectl.yaml (the loop's own flags keep their
values); Ctrl-C interrupts the running pass between states.

--git URL [--git-ref REF] [--git-poll 1m]: the state and pillar trees are
paths in the commit at REF, fetched into --git-cache; a new commit runs a
pass, a commit that fails to render or compile is refused (the last good
one stays applied), and every record names its commit.
--git-allowed-signers FILE refuses commits without an SSH signature by a
key listed in FILE the same way. --metrics-addr
also serves a status page on /.
See docs/watch.md.
`
