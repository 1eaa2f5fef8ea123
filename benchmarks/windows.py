"""Event-time sliding-window word count, end to end: heronpy's windowed bolts vs bytewax.

    python -m benchmarks.windows [--events 1000000] [--runs 3] [--bytewax p1:b100000,p2:b100000]

The input is pre-generated (word, timestamp) events, 10,000-word vocabulary, written as
``word,seconds`` lines (millisecond timestamps): event time advances at ``--rate`` events per
second, each timestamp is up to 0.5 s out of order, and the watermark lag is 1 s, so no event
is late. The windows are 10 s long and slide by 1 s, aligned to epoch 0, in event time.

- heronpy: ``heronpy.local.run`` with 2 containers: 2 spout tasks, each reading its half of
  the events from its own file -> a ``WindowedBolt`` (fields grouping on the word, par 2,
  ``timestamp_field="time"``). Two bolts: *vectorised* (``window.columns`` and
  ``np.unique(..., return_counts=True)``) and *Counter* (``collections.Counter`` over
  ``window.tuples``).
- bytewax 0.21, installed by this script into its own virtual environment under
  ``~/.cache/heronpy/peers/bytewax`` and run as a subprocess: all events from one file ->
  ``count_window`` (``SlidingWindower``, ``EventClock`` with the same 1 s lag, a fixed
  ``now_getter``: replayed data) -> a sink that summarises each window. ``pN:bM`` runs it with
  N processes (``-i``/``-a``, one worker each) and input batches of M lines, with
  ``-s 3600`` (one epoch: its 10 s default epochs cost it half its speed here). Measured here:
  batches of 100,000 beat 10,000 (x1.4) and 1,000,000; 2 processes are slower than 1, as its
  windows are Python code after a key exchange. One file, not two: bytewax's event clock is
  per key, not the minimum over its inputs, so two files read at different speeds make
  events late in bytewax and the counts differ.

Each window's result is summarised the same way for both systems: total count, distinct words,
sum of squared counts (a fingerprint of every word's count) and the exact counts of 16 sample
words. Every run of each system is checked against a numpy reference before any number is
printed. ``steady`` is events / (first event read -> last window task done); ``wall`` is
events / the whole run, process start-up included.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import textwrap
import time
from collections import Counter
from pathlib import Path

import numpy as np

import heronpy.local
from benchmarks.peers import bytewax_python, free_ports
from benchmarks.suite import Result
from heronpy.api.spout.spout import Spout
from heronpy.api.stream import Grouping, Stream
from heronpy.api.topology import TopologyBuilder
from heronpy.windows import Duration, WindowedBolt

LENGTH_S, SLIDE_S, LAG_S = 10, 1, 1
JITTER_MS = 500  # < lag: nothing is late, in either system
T0_MS = 1_700_000_000_000
SAMPLE = [f"w{i}" for i in range(0, 10_000, 625)]  # 16 words


# -- input -------------------------------------------------------------------------------------
def make_events(events: int, keys: int, rate: int, seed: int = 1):
    """Word ids and integer-millisecond timestamps, in emission order."""
    rng = np.random.default_rng(seed)
    words = rng.integers(0, keys, events)
    times = T0_MS + (np.arange(events) * 1000) // rate - rng.integers(0, JITTER_MS, events)
    return words, times


def write_parts(folder: Path, words: np.ndarray, times: np.ndarray, parts: int = 2) -> None:
    """Event i goes to part i % parts, as ``w<id>,<seconds with 3 decimals>`` lines."""
    for part in range(parts):
        w, t = words[part::parts], times[part::parts]
        lines = [f"w{a},{b // 1000}.{b % 1000:03d}\n" for a, b in zip(w.tolist(), t.tolist(),
                                                                    strict=True)]
        (folder / f"part{part}.txt").write_text("".join(lines))
    lines = [f"w{a},{b // 1000}.{b % 1000:03d}\n" for a, b in zip(words.tolist(), times.tolist(),
                                                                strict=True)]
    (folder / "all.txt").write_text("".join(lines))


def reference(words: np.ndarray, times: np.ndarray, keys: int) -> dict:
    """{window start s: (total, distinct, sum of squares, {sample word: count})} by numpy."""
    order = np.argsort(times, kind="stable")
    w, t = words[order], times[order]
    sample_ids = np.array([int(s[1:]) for s in SAMPLE])
    result = {}
    first = (int(t[0]) - LENGTH_S * 1000) // (SLIDE_S * 1000) + 1
    last = int(t[-1]) // (SLIDE_S * 1000)
    for k in range(first, last + 1):
        lo, hi = np.searchsorted(t, [k * SLIDE_S * 1000, k * SLIDE_S * 1000 + LENGTH_S * 1000])
        if hi == lo:  # windows that hold no event do not fire
            continue
        counts = np.bincount(w[lo:hi], minlength=keys)
        result[k * SLIDE_S] = (int(hi - lo), int((counts > 0).sum()), int((counts ** 2).sum()),
                               {s: int(counts[i]) for s, i in zip(SAMPLE, sample_ids,
                                                                  strict=True) if counts[i]})
    return result


# -- heronpy -----------------------------------------------------------------------------------
class EventSpout(Spout):
    """Reads ``word,seconds`` lines from its own part file, ~64 KiB per ``next_tuple``."""

    outputs = ["word", "time", Stream(["started"], name="timing")]

    def initialize(self, config, context):
        path = Path(config["bench.input"]) / f"part{context.get_task_index()}.txt"
        self.lines = open(path)  # noqa: SIM115 - read until the end
        self.started = False

    def next_tuple(self):
        if not self.started:
            self.started = True
            self.emit([time.time()], stream="timing")
        lines = self.lines.readlines(65536)
        if not lines:
            self.lines.close()
            raise StopIteration
        emit = self.emit
        for line in lines:
            word, _, ts = line.partition(",")
            emit([word, float(ts)])


class _WindowCount(WindowedBolt):
    outputs = ["start", "total", "distinct", "squares", "sample", Stream(["ended"], name="timing")]
    length = Duration(LENGTH_S)
    slide = Duration(SLIDE_S)
    lag = Duration(LAG_S)
    timestamp_field = "time"

    def end_of_stream(self):
        self.emit([time.time()], stream="timing")


class VectorisedCount(_WindowCount):
    """Per window: ``np.unique`` over the window's word column."""

    def process_window(self, window, tuples):
        words = window.columns(["word", "time"])["word"]
        uniq, counts = np.unique(words, return_counts=True)
        at = np.searchsorted(uniq, SAMPLE)
        at[at == len(uniq)] = 0
        hit = uniq[at] == SAMPLE
        sample = {s: int(c) for s, c, h in zip(SAMPLE, counts[at].tolist(), hit.tolist(),
                                                strict=True) if h}
        self.emit([round(window.start), len(words), len(uniq),
                   int((counts.astype(np.int64) ** 2).sum()), sample])


class CounterCount(_WindowCount):
    """Per window: ``collections.Counter`` over the window's tuples."""

    def process_window(self, window, tuples):
        counts = Counter(t.values[0] for t in tuples)
        sample = {s: counts[s] for s in SAMPLE if s in counts}
        self.emit([round(window.start), len(tuples), len(counts),
                   sum(c * c for c in counts.values()), sample])


def heronpy_topology(folder: Path, bolt: type, containers: int = 2) -> TopologyBuilder:
    builder = TopologyBuilder("windows_bench")
    spout = builder.add_spout("events", EventSpout, par=2)
    builder.add_bolt("count", bolt, par=2, inputs={spout: Grouping.fields("word")})
    builder.set_config({"topology.stmgrs": containers, "bench.input": str(folder)})
    return builder


def run_heronpy(folder: Path, bolt: type, events: int) -> tuple[float, float, dict]:
    started = time.perf_counter()
    result = heronpy.local.run(heronpy_topology(folder, bolt), timeout=1200)
    wall = time.perf_counter() - started
    first = min(t for (t,) in result.outputs("events", "timing"))
    last = max(t for (t,) in result.outputs("count", "timing"))
    windows: dict = {}
    for start, total, distinct, squares, sample in result.outputs("count"):
        _merge(windows, start, total, distinct, squares, sample)
    return events / (last - first), events / wall, windows


def _merge(windows: dict, start, total, distinct, squares, sample) -> None:
    """Adds one task's (or one bytewax worker's) part of a window's summary."""
    w = windows.setdefault(int(start), [0, 0, 0, {}])
    w[0] += total
    w[1] += distinct
    w[2] += squares
    for word, count in sample.items():
        w[3][word] = w[3].get(word, 0) + count


# -- bytewax -----------------------------------------------------------------------------------
BYTEWAX_FLOW = textwrap.dedent('''
    """The same windowed word count in bytewax (written by benchmarks/windows.py)."""
    import json
    import os
    import time
    from datetime import datetime, timedelta, timezone
    from pathlib import Path

    import bytewax.operators as op
    from bytewax.connectors.files import DirSource
    from bytewax.dataflow import Dataflow
    from bytewax.operators.windowing import EventClock, SlidingWindower, count_window
    from bytewax.outputs import DynamicSink, StatelessSinkPartition

    EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
    NOW = datetime(2000, 1, 1, tzinfo=timezone.utc)  # replayed data: no system-time drift
    IN, OUT = Path(os.environ["BW_IN"]), Path(os.environ["BW_OUT"])
    SAMPLE = frozenset(json.loads(os.environ["BW_SAMPLE"]))
    started = []


    def parse(line):
        if not started:
            started.append(time.time())
        word, _, ts = line.partition(",")
        return word, EPOCH + timedelta(seconds=float(ts))


    class Summary(StatelessSinkPartition):
        def __init__(self, index):
            self.index = index
            self.windows = {}

        def write_batch(self, items):
            windows = self.windows
            for word, (window_id, count) in items:
                w = windows.get(window_id)
                if w is None:
                    w = windows[window_id] = [0, 0, 0, {}]
                w[0] += count
                w[1] += 1
                w[2] += count * count
                if word in SAMPLE:
                    w[3][word] = count

        def close(self):
            (OUT / f"worker{self.index}.json").write_text(json.dumps(
                {"started": started[0] if started else None, "ended": time.time(),
                 "windows": self.windows}))


    class SummarySink(DynamicSink):
        def build(self, step_id, worker_index, worker_count):
            return Summary(f"{os.getpid()}-{worker_index}")


    flow = Dataflow("windowed_word_count")
    lines = op.input("lines", flow, DirSource(IN, os.environ["BW_FILES"],
                                                batch_size=int(os.environ["BW_BATCH"])))
    events = op.map("parse", lines, parse)
    clock = EventClock(lambda e: e[1], timedelta(seconds=float(os.environ["BW_LAG"])),
                       now_getter=lambda: NOW, to_system_utc=lambda _: None)
    windower = SlidingWindower(length=timedelta(seconds={length}),
                               offset=timedelta(seconds={slide}), align_to=EPOCH)
    counts = count_window("count", events, clock, windower, lambda e: e[0])
    op.output("summary", counts.down, SummarySink())
''').replace("{length}", str(LENGTH_S)).replace(
    "{slide}", str(SLIDE_S))


def run_bytewax(python: Path, folder: Path, processes: int, batch: int, events: int,
                files: str = "all.txt", lag: float = LAG_S,
                epoch: int = 3600) -> tuple[float, float, dict]:
    with tempfile.TemporaryDirectory(prefix="bytewax-") as scratch:
        flow = Path(scratch) / "bw_window_flow.py"
        flow.write_text(BYTEWAX_FLOW)
        out = Path(scratch) / "out"
        out.mkdir()
        env = {**os.environ, "BW_IN": str(folder), "BW_OUT": str(out), "BW_BATCH": str(batch),
               "BW_FILES": files, "BW_LAG": str(lag), "BW_SAMPLE": json.dumps(SAMPLE)}
        env.pop("PYTHONPATH", None)
        base = [str(python), "-m", "bytewax.run", f"{flow}:flow", "-s", str(epoch)]
        if processes == 1:
            argvs = [base]
        else:
            addresses = ";".join(f"localhost:{p}" for p in free_ports(processes))
            argvs = [[*base, "-i", str(i), "-a", addresses] for i in range(processes)]
        started = time.perf_counter()
        procs = [subprocess.Popen(argv, env=env, cwd=scratch) for argv in argvs]
        codes = [p.wait(timeout=3600) for p in procs]
        wall = time.perf_counter() - started
        if any(codes):
            raise RuntimeError(f"bytewax exited with {codes}")
        windows: dict = {}
        reports = [json.loads(p.read_text()) for p in out.glob("worker*.json")]
        for report in reports:
            for start, (total, distinct, squares, sample) in report["windows"].items():
                _merge(windows, int(start) * SLIDE_S, total, distinct, squares, sample)
        first = min(r["started"] for r in reports if r["started"] is not None)
        last = max(r["ended"] for r in reports)
        return events / (last - first), events / wall, windows


# -- the run -----------------------------------------------------------------------------------
def check(name: str, got: dict, expected: dict) -> None:
    got = {k: tuple(v) for k, v in got.items()}
    if got != expected:
        wrong = sorted(k for k in expected.keys() | got.keys()
                       if got.get(k) != expected.get(k))
        k = wrong[0]
        raise AssertionError(f"{name}: {len(wrong)} windows differ from the reference, e.g. "
                             f"window {k}: {got.get(k)} != {expected.get(k)}")


def measure(quick: bool = False, peers: bool = True, events: int | None = None,
            keys: int = 10_000, rate: int = 20_000, runs: int | None = None,
            bytewax: tuple[tuple[int, int], ...] = ((1, 100_000), (2, 100_000)),
            bolts: tuple[str, ...] = ("vectorised", "Counter")) -> Result:
    """heronpy's bolts and bytewax's configurations (``(processes, batch)``; none unless
    ``peers``) take turns each run, so that each run sees a machine alike."""
    events = events or (100_000 if quick else 1_000_000)
    runs = runs or (1 if quick else 3)
    bytewax = bytewax if peers else ()
    words, times = make_events(events, keys, rate)
    expected = reference(words, times, keys)
    python = bytewax_python() if bytewax else None
    classes = {"vectorised": VectorisedCount, "Counter": CounterCount}
    result = Result("windows", f"event-time sliding-window keyed count: {events:,} events, "
                    f"{keys:,} keys, {LENGTH_S} s windows sliding by {SLIDE_S} s, 2 containers; "
                    "tuples/s")
    with tempfile.TemporaryDirectory(prefix="windows-bench-") as scratch:
        folder = Path(scratch)
        write_parts(folder, words, times)
        for _ in range(runs):
            for name in bolts:
                steady, wall, got = run_heronpy(folder, classes[name], events)
                check(f"heronpy {name}", got, expected)
                result.add(f"heronpy, {name}", "tuples/s steady", steady)
                result.add(f"heronpy, {name}", "tuples/s wall", wall)
            for processes, batch in bytewax:
                steady, wall, got = run_bytewax(python, folder, processes, batch, events)
                check(f"bytewax -p {processes} batch {batch}", got, expected)
                result.add(f"bytewax, -p {processes}, batch {batch:,}", "tuples/s steady", steady)
                result.add(f"bytewax, -p {processes}, batch {batch:,}", "tuples/s wall", wall)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--keys", type=int, default=10_000)
    parser.add_argument("--rate", type=int, default=20_000,
                        help="events per second of event time")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--bytewax", default="p1:b100000,p2:b100000",
                        help="bytewax configurations: pPROCESSES:bBATCH, comma-separated; "
                             "'none' to skip bytewax")
    parser.add_argument("--only", choices=["vectorised", "Counter"], default=None,
                        help="one heronpy bolt only")
    args = parser.parse_args()
    configs = () if args.bytewax == "none" else tuple(
        (int(c.split(":")[0][1:]), int(c.split(":")[1][1:])) for c in args.bytewax.split(","))
    bolts = (args.only,) if args.only else ("vectorised", "Counter")
    print(measure(events=args.events, keys=args.keys, rate=args.rate, runs=args.runs,
                  bytewax=configs, bolts=bolts).table())


if __name__ == "__main__":
    main()
