# Sourced by slurm-single-node.sh and slurm-multi-node.sh: the parts of a cluster on this
# machine that do not depend on how many nodes it has. The caller sets DIR (with a munge/
# subdirectory) and defines fail MESSAGE.

# start_munge: munged as user munge on DIR/munge (one socket file serves every node, in any
# network namespace); sets SOCKET.
start_munge() {
  # munged refuses a socket directory others cannot reach: run it as user munge, mode 755.
  chown munge:munge "$DIR/munge"
  chmod 755 "$DIR/munge"
  runuser -u munge -- test -w "$DIR/munge" \
    || fail "user munge cannot reach $DIR/munge: choose a DIR every user can enter (e.g. in /tmp)"
  if [ ! -s /etc/munge/munge.key ]; then  # the Debian package normally creates it
    (umask 077 && dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none)
    chown munge:munge /etc/munge/munge.key
  fi
  SOCKET="$DIR/munge/munge.socket.2"
  runuser -u munge -- munged --socket="$SOCKET" --pid-file="$DIR/munge/munged.pid" \
    --log-file="$DIR/munge/munged.log" --seed-file="$DIR/munge/munged.seed" \
    || fail "munged did not start"
  for _ in $(seq 100); do [ -S "$SOCKET" ] && break; sleep 0.1; done
  munge -S "$SOCKET" -n | unmunge -S "$SOCKET" >/dev/null || fail "munge does not work"
}

# size_node: what each node declares; sets CPUS (max(2, cores), HERONPY_SLURM_CPUS overrides),
# OVERRIDES (accepts more CPUs than cores) and MEMORY_MB (90 % of what slurmd finds: a node
# declaring more than that is drained, "Low RealMemory").
size_node() {
  local cores found_mb
  cores=$(nproc)
  CPUS=${HERONPY_SLURM_CPUS:-$(( cores < 2 ? 2 : cores ))}
  OVERRIDES=""
  [ "$CPUS" -gt "$cores" ] && OVERRIDES="SlurmdParameters=config_overrides"
  found_mb=$(slurmd -C | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p')
  MEMORY_MB=$(( found_mb * 9 / 10 ))
}
