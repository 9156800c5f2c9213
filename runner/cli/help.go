package cli

import (
	"fmt"
	"runtime/debug"
	"strings"
)

// Version is set at build time (-ldflags "-X .../cli.Version=v1.2.3");
// otherwise the module version from the build info is used.
var Version = ""

func version() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

const usage = `statectl - a Salt-style declarative state runner for Incus clusters

Usage:
  statectl apply TARGET [SLS...]    render, plan and apply states (no SLS: what top.sls assigns)
  statectl plan TARGET [SLS...] -o FILE
                                    dry run that saves the plan for 'apply --plan FILE'
  statectl watch TARGET [SLS...]    re-apply on a schedule and on cluster events (drift correction)
  statectl render TARGET [SLS...]   show the compiled states (like Salt's state.show_sls)
  statectl pillar TARGET            show the rendered pillar
  statectl grains TARGET            show the grains
  statectl modules [MODULE...]      list state modules, their functions and arguments
  statectl lab up|down|status       run a local lab of incusd daemons on loopback
  statectl lab restart|reset NODE   restart a lab member, or wipe it to a fresh server
  statectl version                  print the version
  statectl help [COMMAND]           show help

TARGET is a roster name, a glob (node*) or a compound expression
('G@roles:incus and node*'); several targets run one after another.
'local' is this machine, with or without a roster entry.

Flags (defaults may be set in ./statectl.yaml, keys = flag names):
`

var commandHelp = map[string]string{
	"apply": `statectl apply TARGET [SLS...]

Renders pillar and states for each target, compiles them, plans against the
live system and applies what differs. Without SLS names the states come from
top.sls (a highstate). With --test nothing is changed: the plan is reported,
states that would change show Result: None and the summary says
"Would change: N".

Output: --out human (default; Salt's highstate layout, see --state-output),
json or yaml ({"TARGET": {"module_|-id_|-name_|-function": {...}}}, Salt's
shape); for CI: json-v1 (versioned, see docs/ci.md), markdown (a summary
for a pull-request comment) or junit.

Runs on one target are serialised by a lock (--lock-dir); a second run
fails with "another run is in progress" unless --lock-timeout lets it wait.
--plan FILE applies a plan saved by 'statectl plan', refusing a stale one.

--batch N|N% (-b, --batch-size) runs the targets N (or N% of them) at a
time; between batches a health gate waits, at most --batch-gate-timeout
(default 5m), until every Incus member is Online, none is evacuating,
restoring or Blocked by an upgrade and the database has its voters
(--batch-wait pauses before it). The run stops at the first batch with a
failure and names the targets not touched (e.g. statectl apply '*'
incus.maintenance --batch 1: a rolling update, see docs/guide.md).

--parallel N runs up to N clusters of a fleet roster (the roster's cluster
field) at once, the members of one cluster always in turn; the output is
the same as a sequential run's. It does not combine with --batch.

--git URL [--git-ref REF] takes the state and pillar trees (--states,
--pillar, relative to the repository root) from the commit at REF, fetched
into --git-cache; the roster and statectl.yaml stay local (docs/watch.md).
--git-allowed-signers FILE refuses a commit without an SSH signature by a
key listed in FILE.

--cluster-lock holds the cluster's lock (the profile statectl-lock, the
one watch passes correct under) while each target runs, so watchers leave
the cluster to this apply; a lock held by another run is waited for up to
--cluster-lock-wait (default 10s), then the target fails naming the holder.
Off unless given: it costs two writes per target.

Exit codes: 0 ok; 1 usage, render or compile error (nothing ran); 2 a state
failed; 3 with --detailed-exitcode: succeeded and changed (or would change);
5 the pillar failed to render. With several targets the worst code wins
(5, then 1, 2, 3, 0).
`,
	"render": `statectl render TARGET [SLS...]

Prints the compiled states in Salt's state.show_sls shape, keyed by target:
ID: {__sls__, __env__, module: [function, {arg: value}..., {require: [...]}, {order: N}]}.
order is the execution order. Secret arguments (per the module's spec, or
named like a credential) print as ******. Default output is yaml; --out json
for JSON.
`,
	"pillar": `statectl pillar TARGET

Prints the target's pillar ({TARGET: {...}}) after top.sls matching, merging
and --pillar-override. Values of keys naming a credential (password,
secret, token: cluster_password, core.trust_password, ...) print as ******
unless --show-secrets is given. Default output is yaml; --out json for JSON.
A pillar render error exits 5.
`,
	"grains": `statectl grains TARGET

Prints the target's grains ({TARGET: {...}}): core grains for 'local'; id;
the server's facts under incus when its incusd answers within 2 seconds (a
warning says why when it does not; --offline skips them); then the roster's
custom grains, which win. Default output is yaml; --out json for JSON.
`,
	"modules": `statectl modules [MODULE...]

Lists the state modules with each function's documentation and arguments
(name, type, required, default, secret). Default output is yaml.

Plugin modules are listed too: executables named statectl-module-NAME on
$STATECTL_PLUGIN_PATH (colon-separated; when set, the only place searched),
else in plugins/ next to the state tree, then in
$XDG_DATA_HOME/statectl/plugins. Listing starts them; a plugin that cannot
start (not a plugin, another protocol version, a sha256 pin in
statectl.yaml that does not match) is reported and exits 1. See
docs/plugins.md.
`,
	"lab": `statectl lab up|down|status [--dir DIR] [--members N] [--prefix 127.0.0]
statectl lab restart|reset NODE [--dir DIR]

Runs real incusd daemons on loopback addresses (node1 on 127.0.0.11:8443,
node2 on .12, ...; --prefix 127.0.1 moves them to 127.0.1.11 and up, next to
another lab), unclustered, with a roster.yaml and a pillar/ tree in the lab
directory (default ./lab), so the shipped states can form a cluster:

  statectl lab up --members 3
  statectl apply 'node*' --roster lab/roster.yaml --pillar lab/pillar
  statectl lab status
  statectl lab down

'lab restart NODE' stops a member's daemon and starts it again (a rolling
restart, rehearsed); 'lab reset NODE' wipes it to a fresh, unclustered
server at the same address (the way back for a member removed from its
cluster while it was offline; the next apply joins it again).

Needs root and incusd (make deps installs Incus).
`,
	"plan":    planHelp,
	"watch":   watchHelp,
	"version": "statectl version\n\nPrints the version.\n",
	"help":    "statectl help [COMMAND]\n\nShows help for statectl or a command.\n",
}

func (a *app) help(args []string) error {
	if len(args) == 0 {
		fmt.Fprint(a.stdout, usage+a.flags.FlagUsages())
		return nil
	}
	text, ok := commandHelp[args[0]]
	if !ok {
		return unknownCommand(args[0])
	}
	fmt.Fprint(a.stdout, strings.TrimRight(text, "\n")+"\n")
	return nil
}
