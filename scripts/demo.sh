#!/usr/bin/env bash
# The seed's flow on a local 3-member lab: bootstrap node1, join node2 and
# node3 with the shipped states, show the cluster, re-apply (zero changes),
# make an out-of-band change and show the --test diff. The lab stays up;
# `make demo-down` (statectl lab down --dir DIR) removes it.
set -euo pipefail
dir=${1:-$PWD/.lab}
root=$(cd "$(dirname "$0")/.." && pwd)
st="$root/bin/statectl"
step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

if [ -f "$dir/lab.json" ]; then
  step "removing the previous lab in $dir"
  "$st" lab down --dir "$dir"
fi
step "statectl lab up --dir $dir --members 3"
"$st" lab up --dir "$dir" --members 3

common=(--states "$root/states" --pillar "$dir/pillar" --roster "$dir/roster.yaml")
for n in node1 node2 node3; do
  step "statectl apply $n incus.cluster"
  "$st" apply "$n" incus.cluster "${common[@]}"
done

step "incus cluster list (via node1's socket)"
INCUS_DIR="$dir/node1" incus cluster list

step "highstate on every node (top.sls: incus = cluster + server settings)"
"$st" apply 'node*' "${common[@]}" --state-output changes

step "re-apply every node: nothing to change (--detailed-exitcode exits 0, not 3)"
"$st" apply 'node*' "${common[@]}" --state-output terse --detailed-exitcode
echo "exit code 0: no changes, no write requests"

step "out-of-band change: incus config set images.auto_update_interval 12"
INCUS_DIR="$dir/node1" incus config set images.auto_update_interval 12

step "statectl apply node1 --test shows the drift (exit 3 = changes pending)"
set +e
"$st" apply node1 "${common[@]}" --test --detailed-exitcode
rc=$?
set -e
echo "exit code $rc"

step "the lab is still up: $dir (remove it with: make demo-down)"
