#!/usr/bin/env bash
# A single-node Slurm cluster on this machine, without systemd: for heronpy's Slurm tests.
#
#   scripts/slurm-single-node.sh [--install] [DIR]
#
#   --install  first install the Debian packages (apt-get; needs root):
#              slurmctld slurmd slurm-client munge. Nothing is installed without it.
#   DIR        where the config, state, logs, pids and munge socket go
#              (default: a new temporary directory). Stop it with scripts/slurm-stop.sh DIR.
#
# Needs root (slurmd runs as root, munged as user munge). Starts munged, slurmctld -D and
# slurmd -D in the background, waits until `sinfo` says the node is idle (at most
# HERONPY_SLURM_WAIT seconds, default 60) and prints `export SLURM_CONF=DIR/slurm.conf`.
# The node declares max(2, cores) CPUs (HERONPY_SLURM_CPUS overrides): two containers fit on
# it; more CPUs than cores are accepted through SlurmdParameters=config_overrides.
set -euo pipefail

if [ "${1:-}" = --install ]; then
  shift
  apt-get update -q >&2  # stdout is only for the export line
  apt-get install -y -q --no-install-recommends slurmctld slurmd slurm-client munge >&2
fi
for tool in munged slurmctld slurmd sinfo; do
  command -v "$tool" >/dev/null || { echo "$tool not found: run with --install" >&2; exit 1; }
done

DIR="$(realpath "${1:-$(mktemp -d "${TMPDIR:-/tmp}/heronpy-slurm.XXXXXX")}")"
mkdir -p "$DIR"/{state,spool,log,munge}
chmod 755 "$DIR"
CONF="$DIR/slurm.conf"
export SLURM_CONF="$CONF"

fail() {
  echo "slurm-single-node: $1; the last lines of its logs:" >&2
  tail -n 20 "$DIR"/log/* "$DIR"/munge/*.log >&2 || true
  "$(dirname "$0")/slurm-stop.sh" "$DIR" >&2 || true
  exit 1
}

. "$(dirname "$0")/slurm-common.sh"
start_munge
size_node

cat > "$CONF" <<CONF
ClusterName=heronpy
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$SOCKET
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
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
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
$OVERRIDES
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEMORY_MB State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF

# -D: stay in the foreground (we background them and keep their pids); -i: no old state
slurmctld -D -i -f "$CONF" > "$DIR/log/slurmctld.out" 2>&1 &
echo $! > "$DIR/slurmctld.bgpid"
slurmd -D -N localhost -f "$CONF" > "$DIR/log/slurmd.out" 2>&1 &
echo $! > "$DIR/slurmd.bgpid"

WAIT=${HERONPY_SLURM_WAIT:-60}
state=""
for _ in $(seq $(( WAIT * 10 ))); do
  state=$(sinfo -h -N -o %T 2>/dev/null | head -n 1 || true)
  [ "$state" = idle ] && break
  sleep 0.1
done
[ "$state" = idle ] || fail "the node is not idle after ${WAIT}s (state: ${state:-none})"
echo "slurm-single-node: localhost idle, $CPUS CPUs, ${MEMORY_MB} MB" >&2
echo "export SLURM_CONF=$CONF"
