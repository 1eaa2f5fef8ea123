#!/usr/bin/env bash
# N "hosts" on this machine: network namespaces rh1..rhN at 10.200.0.i/24, each linked by a
# veth pair (rhi's eth0 <-> vhi) to a bridge that itself lives in namespace rsw. Nothing is
# configured in the root namespace: the addresses are reachable only from inside those
# namespaces. Needs root and iproute2.
#
#   scripts/netns-up.sh [N]      (default 3)      remove with scripts/netns-down.sh N
#
# Cut host i off: `ip -n rsw link set vhi down`; restore it with `... up`.
# Run a daemon inside one with `nsenter --net=/run/netns/rhi CMD` (`ip netns exec` remounts
# /sys, which slurmd does not survive). Fails if rsw already exists (another user of it).
set -euo pipefail
N="${1:-3}"
ip netns add rsw
ip -n rsw link add br0 type bridge
ip -n rsw link set br0 up
ip -n rsw link set lo up
for i in $(seq 1 "$N"); do
  ip netns add "rh$i"
  # the veth pair is created inside rsw; its eth0 end goes straight into rh$i
  ip -n rsw link add "vh$i" type veth peer name eth0 netns "rh$i"
  ip -n rsw link set "vh$i" master br0
  ip -n rsw link set "vh$i" up
  ip -n "rh$i" addr add "10.200.0.$i/24" dev eth0
  ip -n "rh$i" link set eth0 up
  ip -n "rh$i" link set lo up
done
echo "netns up: rsw + rh1..rh$N"
