#!/usr/bin/env bash
# Stops what scripts/slurm-single-node.sh DIR or scripts/slurm-multi-node.sh DIR N started, by
# the pids they recorded only: SIGTERM, up to 10 s to exit, then SIGKILL. For a multi-node
# cluster it then ends whatever still runs in its network namespaces (job steps of a node that
# was cut off) the same way, and deletes the namespaces. DIR (config and logs) stays.
#
#   scripts/slurm-stop.sh DIR       (default: the directory of $SLURM_CONF)
set -uo pipefail
DIR="${1:-$(dirname "${SLURM_CONF:?give DIR or set SLURM_CONF}")}"

running() {  # whether pid $1 runs (a zombie does not: its parent has yet to reap it)
  local state
  state=$(ps -o stat= -p "$1" 2>/dev/null) && [ "${state:0:1}" != Z ]
}

stop_pids() {  # SIGTERM the pids given, up to 10 s for them to exit, then SIGKILL
  local pids=() alive=() pid
  for pid in "$@"; do kill "$pid" 2>/dev/null && pids+=("$pid"); done
  for _ in $(seq 100); do
    alive=()
    for pid in "${pids[@]}"; do running "$pid" && alive+=("$pid"); done
    [ ${#alive[@]} = 0 ] && break
    sleep 0.1
  done
  for pid in "${alive[@]}"; do
    echo "slurm-stop: $pid still alive after 10 s: SIGKILL" >&2
    kill -9 "$pid"
  done
}

daemons=()
for file in "$DIR"/slurmd.bgpid "$DIR"/slurmd-*.bgpid "$DIR"/slurmctld.bgpid \
    "$DIR"/munge/munged.pid; do
  [ -f "$file" ] || continue
  daemons+=("$(cat "$file")")
  rm -f "$file"
done
stop_pids "${daemons[@]}"

if [ -f "$DIR/netns" ]; then
  N=$(cat "$DIR/netns")
  left=()
  for i in $(seq 1 "$N"); do
    [ -e "/run/netns/rh$i" ] && left+=($(ip netns pids "rh$i"))
  done
  if [ ${#left[@]} -gt 0 ]; then
    echo "slurm-stop: ending what still runs in the namespaces: ${left[*]}" >&2
    stop_pids "${left[@]}"
  fi
  "$(dirname "$0")/netns-down.sh" "$N" >&2
  rm -f "$DIR/netns"
fi
echo "slurm-stop: stopped the cluster in $DIR" >&2
