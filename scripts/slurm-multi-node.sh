#!/usr/bin/env bash
# A Slurm cluster of N nodes on this machine, one network namespace per node: for heronpy's
# multi-node tests (tests/test_slurm_multinode.py).
#
#   scripts/slurm-multi-node.sh [--install] DIR N
#
#   --install  first install the Debian packages (apt-get; needs root):
#              slurmctld slurmd slurm-client munge. Nothing is installed without it.
#   DIR        where the config, state, logs, pids and munge socket go.
#   N          nodes (at least 2): rh1..rhN at 10.200.0.1..N (scripts/netns-up.sh).
#
# Stop it with scripts/slurm-stop.sh DIR: it stops the daemons, ends whatever still runs in
# the namespaces and deletes them.
#
# Node rhi is a slurmd started with `nsenter --net=/run/netns/rhi`, with its own spool
# directory (DIR/spool/rhi), log and pid file. Nothing is configured in the root namespace,
# so the controller runs in rh1 (SlurmctldHost=$(hostname -s)(10.200.0.1)): rh1 is also the
# login node. Slurm commands and `heronpy submit slurm` must run in a namespace too:
#   nsenter --net=/run/netns/rh1 sinfo
# Needs root, iproute2 and nsenter. Waits until every node is idle (at most
# HERONPY_SLURM_WAIT seconds, default 60) and prints `export SLURM_CONF=DIR/slurm.conf`.
# A node that stops answering is marked DOWN after HERONPY_SLURMD_TIMEOUT seconds
# (SlurmdTimeout, default 10); ReturnToService=2 brings it back once it answers again.
set -euo pipefail

if [ "${1:-}" = --install ]; then
  shift
  apt-get update -q >&2  # stdout is only for the export line
  apt-get install -y -q --no-install-recommends slurmctld slurmd slurm-client munge >&2
fi
[ $# = 2 ] || { echo "usage: $0 [--install] DIR N" >&2; exit 2; }
for tool in munged slurmctld slurmd sinfo ip nsenter; do
  command -v "$tool" >/dev/null || { echo "$tool not found (--install adds Slurm's)" >&2; exit 1; }
done
N="$2"
[ "$N" -ge 2 ] 2>/dev/null || { echo "N must be a number >= 2, not '$N'" >&2; exit 2; }
for ns in rsw $(seq -f 'rh%g' 1 "$N"); do
  if [ -e "/run/netns/$ns" ]; then
    echo "slurm-multi-node: network namespace $ns exists already (another cluster or test?)" >&2
    exit 1
  fi
done

HERE="$(cd "$(dirname "$0")" && pwd)"
DIR="$(realpath "$1")"
mkdir -p "$DIR"/{state,spool,log,munge}
chmod 755 "$DIR"
CONF="$DIR/slurm.conf"
export SLURM_CONF="$CONF"

fail() {
  echo "slurm-multi-node: $1; the last lines of its logs:" >&2
  tail -n 20 "$DIR"/log/* "$DIR"/munge/*.log >&2 || true
  "$HERE/slurm-stop.sh" "$DIR" >&2 || true
  exit 1
}

echo "$N" > "$DIR/netns"  # slurm-stop.sh deletes them
"$HERE/netns-up.sh" "$N" >&2 || fail "the network namespaces could not be made"
in_ns() { local ns="$1"; shift; nsenter --net="/run/netns/$ns" "$@"; }

. "$HERE/slurm-common.sh"
start_munge  # its socket is a file: every namespace reaches it
size_node  # the nodes share this machine's memory: each sees all of it

{
  cat <<CONF
ClusterName=heronpy-multi
SlurmctldHost=$(hostname -s)(10.200.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$SOCKET
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool/%n
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd-%n.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd-%n.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
SlurmdTimeout=${HERONPY_SLURMD_TIMEOUT:-10}
InactiveLimit=0
KillWait=5
$OVERRIDES
CONF
  for i in $(seq 1 "$N"); do
    echo "NodeName=rh$i NodeAddr=10.200.0.$i CPUs=$CPUS RealMemory=$MEMORY_MB State=UNKNOWN"
  done
  echo "PartitionName=debug Nodes=rh[1-$N] Default=YES MaxTime=INFINITE State=UP"
} > "$CONF"

# -D: stay in the foreground (we background them and keep their pids); -i: no old state.
# nsenter execs the daemon once in the namespace: $! is the daemon's pid (not so through a
# shell function, whose subshell would stay in between).
nsenter --net=/run/netns/rh1 slurmctld -D -i -f "$CONF" > "$DIR/log/slurmctld.out" 2>&1 &
echo $! > "$DIR/slurmctld.bgpid"
for i in $(seq 1 "$N"); do
  mkdir -p "$DIR/spool/rh$i"
  nsenter --net="/run/netns/rh$i" slurmd -D -N "rh$i" -f "$CONF" > "$DIR/log/slurmd-rh$i.out" 2>&1 &
  echo $! > "$DIR/slurmd-rh$i.bgpid"
done

WAIT=${HERONPY_SLURM_WAIT:-60}
idle=0
for _ in $(seq $(( WAIT * 10 ))); do
  idle=$(in_ns rh1 sinfo -h -N -t idle -o %N 2>/dev/null | sort -u | wc -l || true)
  [ "$idle" = "$N" ] && break
  sleep 0.1
done
[ "$idle" = "$N" ] || fail "$idle of $N nodes idle after ${WAIT}s: $(in_ns rh1 sinfo -N 2>&1 || true)"
echo "slurm-multi-node: rh1..rh$N idle, $CPUS CPUs and ${MEMORY_MB} MB each; controller and" \
  "clients in rh1: nsenter --net=/run/netns/rh1 sinfo" >&2
echo "export SLURM_CONF=$CONF"
