#!/usr/bin/env bash
# Deletes what scripts/netns-up.sh N made: rh1..rhN and rsw (their veths and bridge go with
# them). A process still inside a namespace keeps it alive: end those (by pid) first.
#
#   scripts/netns-down.sh [N]    (default 3)
N="${1:-3}"
for i in $(seq 1 "$N"); do ip netns del "rh$i" 2>/dev/null; done
ip netns del rsw 2>/dev/null
ip netns list
echo "netns down"
