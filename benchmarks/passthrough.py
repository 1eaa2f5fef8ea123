"""Pass-through latency under load: spout -> relay -> sink, open loop, at fractions of saturation.

    python -m benchmarks.passthrough [--seconds 5] [--loads 0.1,0.5,0.9] [--runs 3] [--peers]

First the spout emits as fast as it can: saturation is what reaches the sink per second. Then,
for each load, the spout follows a schedule (tuple i is due at start + i / rate, rate = load x
saturation) and stamps each tuple with its *due* time, not the time it got out: a spout held
back by backpressure or a busy process does not hide its delay (no coordinated omission). The
sink records now - due in a latency histogram (``heronpy.runtime.histogram``), merged over
sink tasks. The first ``WARMUP_SECS`` of each run (connections opening, first imports) count
for correctness but not for latency. The relay is shuffle-grouped, the sink fields-grouped on
the sequence number, over 2 containers (so most tuples cross a stream-manager hop). Every run
checks that each sequence number arrived exactly once before reporting.

Peers (``--peers``; ``benchmarks/peer_programs/*_passthrough.py``, each in its own venv) run
the same schedule and sink (``peer_programs/common.py``: ``Schedule``, ``Recorder``) in one
process: bytewax 0.21 (a source woken by ``next_awake`` when the next tuple is due -> ``map``
-> a sink that gets batches, each stamped once on arrival; flat out, batches of
``BYTEWAX_BATCH``) and streamz 0.6 (a loop that emits what is due, then sleeps until the next
is -> ``map`` -> ``sink``). Flat out, each sends as many tuples as heronpy's saturation run
just before did; under load, the same rates as heronpy (load x heronpy's saturation), so a
load can be past a peer's own saturation. Their latencies land in the same histogram. The load
is in the metric's name, so that each ratio compares like with like.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

import heronpy.local
from benchmarks.peers import bytewax_processes, bytewax_python, run_program, script, streamz_python
from benchmarks.suite import Result
from heronpy.api.bolt.bolt import Bolt
from heronpy.api.spout.spout import Spout
from heronpy.api.stream import Grouping
from heronpy.api.topology import TopologyBuilder
from heronpy.runtime.histogram import Histogram

PERCENTILES = (50, 99, 99.9)
WARMUP_SECS = 0.5
BYTEWAX_BATCH = 1000  # tuples per batch, flat out (batches of 1 run ~17x slower)


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


# one sink's: count, sum of sequence numbers, first measured arrival, end, latencies
Part = tuple[int, int, float | None, float, Histogram]


def run_heronpy(rate: float, seconds: float, total: int = 0) -> list[Part]:
    """One run of the topology; flat out too, it runs for ``seconds`` (``total`` is for the
    peers)."""
    result = heronpy.local.run(topology(rate, seconds), timeout=seconds + 120)
    parts = []
    for count, seq_sum, first, last, stored, measured in result.outputs("sink"):
        histogram = Histogram.from_dict(stored)
        if histogram.count != measured:
            raise AssertionError("histogram counts differ from tuple counts")
        parts.append((count, seq_sum, first, last, histogram))
    return parts


def peer(argvs: list[list[str]]) -> Callable[[float, float, int], list[Part]]:
    """A function that runs one peer like ``run_heronpy``; flat out, it sends ``total``."""
    def run(rate: float, seconds: float, total: int) -> list[Part]:
        params = {"rate": rate, "seconds": seconds, "warmup": WARMUP_SECS, "total": total,
                  "batch": BYTEWAX_BATCH}
        with tempfile.TemporaryDirectory(prefix="passthrough-peer-") as out:
            reports = run_program(argvs, params, Path(out), timeout=seconds + 120).reports
            parts = []
            for r in reports:
                histogram = Histogram()
                histogram.record_many(np.maximum(0.0, np.fromfile(Path(out, r["latencies"]))))
                parts.append((r["count"], r["seq_sum"], r["first"], r["ended"], histogram))
        return parts
    return run


def summarise(name: str, parts: list[Part]) -> dict:
    """Tuples sent, tuples/s at the sink and the latency percentiles (seconds), after checking
    that each sequence number arrived exactly once."""
    count = sum(p[0] for p in parts)
    if count == 0 or sum(p[1] for p in parts) != count * (count - 1) // 2:
        raise AssertionError(f"{name}: the sink did not get each of {count} tuples exactly once")
    histogram = Histogram()
    for p in parts:
        histogram.merge(p[4])
    span = max(p[3] for p in parts) - min(p[2] for p in parts if p[2] is not None)
    return {"count": count, "tuples_per_s": histogram.count / span,
            **{f"p{q}": histogram.percentile(q) for q in PERCENTILES}}


def measure(quick: bool = False, peers: bool = False, seconds: float | None = None,
            loads: tuple[float, ...] = (0.1, 0.5, 0.9), runs: int | None = None) -> Result:
    """Saturation first, then each load as a fraction of heronpy's median saturation; the
    systems take turns each run."""
    seconds = seconds or (1.0 if quick else 5.0)
    runs = runs or (1 if quick else 3)
    result = Result("passthrough", f"spout -> relay -> sink, open loop, {seconds:g} s per run "
                    "(heronpy: sink par 2, 2 containers; peers: 1 process); latency = arrival - "
                    "due time; load = fraction of heronpy's saturation")
    systems = {"heronpy": run_heronpy}
    if peers:
        systems[f"bytewax -p 1, batch {BYTEWAX_BATCH:,}"] = peer(
            bytewax_processes(bytewax_python(), "bytewax_passthrough.py", 1))
        systems["streamz"] = peer(script(streamz_python(), "streamz_passthrough.py"))
    for _ in range(runs):
        sent = 0
        for name, run in systems.items():  # heronpy first: the peers send as many as it did
            figures = summarise(name, run(0, seconds, sent))
            sent = sent or figures["count"]
            result.add(f"{name}, saturation", "tuples/s", figures["tuples_per_s"])
    saturation = next(f for f in result.figures if f.system == "heronpy, saturation").median
    for load in loads:
        for _ in range(runs):
            for name, run in systems.items():
                figures = summarise(name, run(load * saturation, seconds, 0))
                for q in PERCENTILES:
                    result.add(name, f"p{q} ms, {load:.0%} load", figures[f"p{q}"] * 1000,
                               higher_is_better=False)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--loads", default="0.1,0.5,0.9")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--peers", action="store_true", help="also bytewax and streamz")
    args = parser.parse_args()
    loads = tuple(float(x) for x in args.loads.split(","))
    print(measure(seconds=args.seconds, loads=loads, runs=args.runs, peers=args.peers).table())


if __name__ == "__main__":
    main()
