"""Pass-through latency under load: spout -> relay -> sink, open loop, at fractions of saturation.

    python -m benchmarks.passthrough [--seconds 5] [--loads 0.1,0.5,0.9] [--runs 3]

First the spout emits as fast as it can: saturation is what reaches the sink per second. Then,
for each load, the spout follows a schedule (tuple i is due at start + i / rate, rate = load x
saturation) and stamps each tuple with its *due* time, not the time it got out: a spout held
back by backpressure or a busy process does not hide its delay (no coordinated omission). The
sink records now - due in a latency histogram (``heronpy.runtime.histogram``), merged over
sink tasks. The first ``WARMUP_SECS`` of each run (connections opening, first imports) count
for correctness but not for latency. The relay is shuffle-grouped, the sink fields-grouped on
the sequence number, over 2 containers (so most tuples cross a stream-manager hop). Every run
checks that each sequence number arrived exactly once before reporting.
"""

from __future__ import annotations

import argparse
import time

import heronpy.local
from benchmarks.suite import Result
from heronpy.api.bolt.bolt import Bolt
from heronpy.api.spout.spout import Spout
from heronpy.api.stream import Grouping
from heronpy.api.topology import TopologyBuilder
from heronpy.runtime.histogram import Histogram

PERCENTILES = (50, 99, 99.9)
WARMUP_SECS = 0.5


class ScheduledSpout(Spout):
    """Emits [seq, due time, warm-up?] for ``bench.seconds`` after a warm-up; at
    ``bench.rate`` per second, or flat out when the rate is 0."""

    outputs = ["seq", "due", "warmup"]

    def initialize(self, config, context):
        self.rate = float(config["bench.rate"])
        self.seconds = float(config["bench.seconds"])
        self.seq = 0
        self.start = None

    def next_tuple(self):
        now = time.time()
        if self.start is None:
            self.start = now
        if now - self.start >= self.seconds + WARMUP_SECS:
            raise StopIteration
        warmup = now - self.start < WARMUP_SECS
        if self.rate == 0:
            self.emit([self.seq, now, warmup])
            self.seq += 1
            return
        due_until = int((now - self.start) * self.rate)
        while self.seq <= due_until:  # catch up: everything that is due goes out now
            due = self.start + self.seq / self.rate
            self.emit([self.seq, due, due - self.start < WARMUP_SECS])
            self.seq += 1


class Relay(Bolt):
    outputs = ["seq", "due", "warmup"]

    def process(self, tup):
        self.emit(tup.values)


class LatencySink(Bolt):
    """Records arrival - due after the warm-up; at the end emits its count, the sum of sequence
    numbers, the first and last measured arrival times and its histogram."""

    outputs = ["count", "seq_sum", "first", "last", "histogram", "measured"]

    def initialize(self, config, context):
        self.latencies: list[float] = []
        self.seq_sum = 0
        self.count = 0
        self.first = None

    def process(self, tup):
        seq, due, warmup = tup.values
        self.seq_sum += seq
        self.count += 1
        if not warmup:
            now = time.time()
            if self.first is None:
                self.first = now
            self.latencies.append(now - due)

    def end_of_stream(self):
        histogram = Histogram()
        histogram.record_many([max(0.0, x) for x in self.latencies])
        self.emit([self.count, self.seq_sum, self.first, time.time(), histogram.to_dict(),
                   len(self.latencies)])


def topology(rate: float, seconds: float) -> TopologyBuilder:
    builder = TopologyBuilder("passthrough")
    spout = builder.add_spout("spout", ScheduledSpout, par=1)
    relay = builder.add_bolt("relay", Relay, par=1, inputs={spout: Grouping.SHUFFLE})
    builder.add_bolt("sink", LatencySink, par=2, inputs={relay: Grouping.fields("seq")})
    builder.set_config({"topology.stmgrs": 2, "bench.rate": rate, "bench.seconds": seconds})
    return builder


def run_once(rate: float, seconds: float) -> dict:
    """One run; returns tuples/s at the sink and the latency percentiles (seconds)."""
    result = heronpy.local.run(topology(rate, seconds), timeout=seconds + 120)
    rows = result.outputs("sink")
    count = sum(r[0] for r in rows)
    if count == 0 or sum(r[1] for r in rows) != count * (count - 1) // 2:
        raise AssertionError(f"the sink did not get each of {count} tuples exactly once")
    histogram = Histogram()
    for row in rows:
        histogram.merge(Histogram.from_dict(row[4]))
    measured = sum(r[5] for r in rows)
    if histogram.count != measured:
        raise AssertionError("histogram counts differ from tuple counts")
    span = max(r[3] for r in rows) - min(r[2] for r in rows if r[2] is not None)
    return {"tuples_per_s": measured / span,
            **{f"p{q}": histogram.percentile(q) for q in PERCENTILES}}


def measure(quick: bool = False, peers: bool = False, seconds: float | None = None,
            loads: tuple[float, ...] = (0.1, 0.5, 0.9), runs: int | None = None) -> Result:
    """Saturation first, then each load as a fraction of the median saturation."""
    seconds = seconds or (1.0 if quick else 5.0)
    runs = runs or (1 if quick else 3)
    result = Result("passthrough", f"spout -> relay -> sink (par 2), 2 containers, open loop, "
                    f"{seconds:g} s per run; latency = arrival - due time")
    for _ in range(runs):
        result.add("heronpy, saturation", "tuples/s", run_once(0, seconds)["tuples_per_s"])
    saturation = next(f for f in result.figures if f.system == "heronpy, saturation").median
    for load in loads:
        for _ in range(runs):
            figures = run_once(load * saturation, seconds)
            for q in PERCENTILES:
                result.add(f"heronpy, {load:.0%} load", f"p{q} ms", figures[f"p{q}"] * 1000,
                           higher_is_better=False)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--loads", default="0.1,0.5,0.9")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    loads = tuple(float(x) for x in args.loads.split(","))
    print(measure(seconds=args.seconds, loads=loads, runs=args.runs).table())


if __name__ == "__main__":
    main()
