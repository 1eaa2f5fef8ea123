#!/usr/bin/env bash
# Stops what scripts/slurm-single-node.sh DIR started, by the pids it recorded only:
# SIGTERM, up to 10 s to exit, then SIGKILL. DIR (config and logs) is left in place.
#
#   scripts/slurm-stop.sh DIR       (default: the directory of $SLURM_CONF)
set -uo pipefail
DIR="${1:-$(dirname "${SLURM_CONF:?give DIR or set SLURM_CONF}")}"
pids=()
for file in slurmd.bgpid slurmctld.bgpid munge/munged.pid; do
  [ -f "$DIR/$file" ] || continue
  pid=$(cat "$DIR/$file")
  rm -f "$DIR/$file"
  kill "$pid" 2>/dev/null && pids+=("$pid")
done
for _ in $(seq 100); do
  alive=()
  for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive+=("$pid"); done
  [ ${#alive[@]} = 0 ] && break
  sleep 0.1
done
for pid in "${alive[@]}"; do
  echo "slurm-stop: $pid still alive after 10 s: SIGKILL" >&2
  kill -9 "$pid"
done
echo "slurm-stop: stopped the cluster in $DIR" >&2
