#!/usr/bin/env bash
# Runs a command while traffic over loopback is limited to RATE (tc's units: 1gbit, 100mbit):
# with heronpy.host.per.container=true, a local topology's stream managers (which talk over
# 127.0.0.1) then behave as if on hosts joined by a link that fast. Needs root and iproute2's
# tc; the limit ends with the command. Everything else on loopback is limited meanwhile too.
#   scripts/link-rate.sh 1gbit python -m benchmarks.collectives --no-mpi \
#       --config heronpy.host.per.container=true --ops reduce --parallelism 16
set -euo pipefail
rate=${1:?usage: scripts/link-rate.sh RATE COMMAND...}
shift
# the bucket holds just over one loopback packet (64 KiB MTU): bursts are not let through
tc qdisc add dev lo root tbf rate "$rate" burst 80kb latency 100ms
trap 'tc qdisc del dev lo root' EXIT
"$@"
