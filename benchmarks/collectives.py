"""Collectives: latency and throughput of broadcast, reduce and allreduce vs message size and
parallelism, per algorithm, beside MPI (mpi4py) measured in the same run.

    python -m benchmarks.collectives [--quick] [--sizes 1K,32K,256K,1M] [--parallelism 2,4,8,16]
        [--ops broadcast,reduce,allreduce] [--algorithms flat,binary_tree,ring] [--runs 1]
        [--no-mpi] [--out benchmarks/results/collectives]

The experiments of the Twister2 / Heron collectives papers (Kamburugamuve, Fox et al.), scaled
to one 2-core machine. A message is one float64 numpy array of SIZE bytes (1K = 1024); P is
the parallelism of the collective's many side; heronpy runs over 2 containers
(``topology.stmgrs = 2``), MPI as ``mpirun --oversubscribe -n P`` (Open MPI, shared memory,
installed with mpi4py into ``~/.cache/heronpy/peers/mpi``).

One topology per (op, algorithm, P) runs every size: a warm-up, a latency phase per size
(warm-up rounds, then measured rounds, one round at a time), then a throughput phase per size
(producers unpaced). Round r is the r-th array each producer task emits. Every task records
CLOCK_MONOTONIC (one clock for every process of the machine) when it emits or receives a
round, and emits its records when it is done: the figures are computed afterwards.

- allreduce: an SPMD loop, as MPI programs are written: a bolt of parallelism P subscribes to
  its own allreduce stream and emits its first round when its only other input (a spout that
  ends at once) ends. Latency phase: each task emits round r + 1 as soon as it has round r's
  result (a closed loop). Throughput phase: each task keeps ``WINDOW`` rounds in flight.
- reduce: a pacer spout -> P producer bolts (``Grouping.ALL``) -> a sink bolt of parallelism 1
  (``Grouping.reduce("sum")``). One pacer, so that every producer starts round r on the same
  go message.
- broadcast: a pacer spout -> 1 producer bolt -> a sink bolt of parallelism P
  (``Grouping.broadcast()``): P + 1 processes where MPI has P ranks.
  For these two, the pacer says when producers emit round r (the go message is not timed).
  Latency phase: one round per PACE seconds (a paced open loop), PACE = 2 x the allreduce p99
  of the same algorithm, P and size measured just before (else a model); a round counts as
  *overlapped* if the next was emitted before it was delivered, and a cell where more than
  10 % are is marked ``*`` (its latency includes queueing). Throughput phase: the pacer goes
  as fast as backpressure lets it.

latency(r) = the last task's receipt of round r - the last producer's emit of round r (for
MPI: the last rank's return - the last rank's call, after a barrier: see
benchmarks/mpi_collectives.py), so skew between producers does not count; p50 and p99 pool
the measured rounds of every run. Throughput = (n - 1) / (time between the first and the last
round of the phase to reach every receiving task), in rounds/s, and x SIZE in MB/s; MPI's is
back-to-back blocking calls. Every round's array is checked against its exact expected value
by every receiving task (a wrong one fails the run), and every task must have every round,
before a number is reported.

At the largest P, MPI also runs with its algorithm forced to heronpy's two shapes (linear, and
binary trees: Open MPI's coll/tuned rules) to show whether, on this machine, a tree beats flat
for MPI itself.

Output: a table on stdout, ``collectives.json`` and PNG plots in ``--out``, and whether the
issue's targets are met: binary tree beats flat at P = 16 for messages >= 32 KB; allreduce
latency within 5x of MPI at 1 MB. ``measure()`` gives the suite (``python -m benchmarks run``)
the p50 latencies at the largest P.
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

import heronpy.local
from benchmarks.mpi_collectives import contribution, expected
from benchmarks.peers import peer_python
from benchmarks.suite import Result
from heronpy.api.bolt.bolt import Bolt
from heronpy.api.component.component_spec import GlobalStreamId
from heronpy.api.spout.spout import Spout
from heronpy.api.stream import Grouping, Stream
from heronpy.api.topology import TopologyBuilder
from heronpy.cli import config_pair
from heronpy.config import BATCH_SIZE

OPS = ["broadcast", "reduce", "allreduce"]
ALGORITHMS = ["flat", "binary_tree", "ring"]
KB = 1024
WARMUP = 40  # rounds before anything is measured
WINDOW = 4  # allreduce rounds in flight per task in the throughput phase
MIN_PACE = 0.005  # s between paced rounds, at least
OVERLAP_FLAG = 0.1
MPI_SCRIPT = Path(__file__).with_name("mpi_collectives.py")
ROUNDS = {  # size: (warm-up, latency rounds, throughput rounds) at full scale
    KB: (20, 200, 400), 32 * KB: (20, 150, 300), 256 * KB: (10, 80, 120),
    1024 * KB: (10, 50, 60)}


# -- the plan every task follows -----------------------------------------------------------
@dataclass(frozen=True)
class Phase:
    """Rounds [start, end) of one size; the first ``warm`` are not measured. ``window``:
    rounds in flight (SPMD loop); ``pace``: s between rounds (the pacer), 0 for unpaced."""

    kind: str  # warmup | latency | throughput
    size: int
    start: int
    end: int
    warm: int
    window: int
    pace: float


def make_phases(sizes: list[int], scale: float, pace: dict[int, float]) -> list[Phase]:
    """A warm-up (connections, first-message costs: ~15 rounds of tens of ms), latency phases
    of every size, then throughput phases of every size."""
    phases = [Phase("warmup", sizes[0], 0, WARMUP, WARMUP, 1, pace.get(sizes[0], 0.0))]
    start = WARMUP
    for kind in ("latency", "throughput"):
        for size in sizes:
            warm, measured, bulk = (max(2, round(n * scale)) for n in _rounds(size))
            if kind == "latency":
                count, window, step = warm + measured, 1, pace.get(size, 0.0)
            else:
                count, warm, window, step = bulk, 0, WINDOW, 0.0
            phases.append(Phase(kind, size, start, start + count, warm, window, step))
            start += count
    return phases


def _rounds(size: int) -> tuple[int, int, int]:
    """ROUNDS of the nearest listed size."""
    return ROUNDS[min(ROUNDS, key=lambda s: abs(np.log(s / size)))]


class Schedule:
    """Which rounds a task emits when: the same for every task of a run."""

    def __init__(self, phases: list[Phase]):
        self.phases = phases
        self.starts = [p.start for p in phases]
        self.rounds = phases[-1].end

    def phase(self, round_id: int) -> Phase:
        return self.phases[bisect.bisect_right(self.starts, round_id) - 1]

    def first(self) -> range:
        p = self.phases[0]
        return range(p.start, min(p.start + p.window, p.end))

    def after(self, round_id: int) -> range:
        """SPMD loop: the rounds to emit once ``round_id``'s result is in."""
        p = self.phase(round_id)
        if round_id + p.window < p.end:
            return range(round_id + p.window, round_id + p.window + 1)
        if round_id == p.end - 1 and p.end < self.rounds:
            q = self.phase(p.end)
            return range(q.start, min(q.start + q.window, q.end))
        return range(0)


class Arrays:
    """The arrays a producer emits: read-only and reused, as MPI reuses its send buffer (a
    fresh 1 MB array costs page faults on the measured path)."""

    def __init__(self, op: str, index: int):
        self.op, self.index = op, index
        self.cache: dict[tuple[float, int], np.ndarray] = {}

    def get(self, round_id: int, size: int) -> np.ndarray:
        key = (contribution(self.op, self.index, round_id), size)
        array = self.cache.get(key)
        if array is None:
            if len(self.cache) >= 8:  # one size at a time
                self.cache.clear()
            array = self.cache[key] = np.full(size // 8, key[0], dtype=np.float64)
            array.flags.writeable = False
        return array


def _check(values: list, op: str, tasks: int, round_id: int, where: str) -> None:
    (array,) = values
    want = expected(op, tasks, round_id)
    if not isinstance(array, np.ndarray) or not (array == want).all():
        raise AssertionError(f"{where}, round {round_id}: got {array!r:.120}, expected an "
                             f"array of {want}")


# -- heronpy components ----------------------------------------------------------------------
TIMES = Stream(["task", "kind", "times"], name="times")


class Pacer(Spout):
    """Says when producers emit round g: paced in latency phases, unpaced in throughput phases
    (one tuple per frame, so that producers hold few rounds ahead)."""

    outputs = ["round"]

    def initialize(self, config, context):
        self.schedule = Schedule([Phase(**p) for p in config["bench.phases"]])
        self.round = 0
        self.phase: Phase | None = None
        self.due = 0.0

    def next_tuple(self):
        g = self.round
        if g == self.schedule.rounds:
            raise StopIteration
        phase = self.schedule.phase(g)
        if phase.pace:
            if phase is not self.phase:
                self.phase = phase
                self.due = time.monotonic() + phase.pace
            wait = self.due - time.monotonic()
            if wait > 0.01:
                return  # the runtime calls again within ~16 ms
            if wait > 0:
                time.sleep(wait)
            self.due += phase.pace
        self.emit([g])
        self.round += 1


class Start(Spout):
    """Ends at once: the SPMD bolt's input, whose end starts its loop."""

    outputs = ["nothing"]

    def next_tuple(self):
        raise StopIteration


class Source(Bolt):
    """A producer of reduce / broadcast: emits round g's array when the pacer says g."""

    outputs = [Stream(["array"], name="data"), TIMES]

    def initialize(self, config, context):
        self.arrays = Arrays(config["bench.op"], context.get_task_index())
        self.index = context.get_task_index()
        self.schedule = Schedule([Phase(**p) for p in config["bench.phases"]])
        self.sent: list[float] = []

    def process(self, tup):
        (g,) = tup.values
        array = self.arrays.get(g, self.schedule.phase(g).size)
        self.sent.append(time.monotonic())
        self.emit([array], stream="data")
        if g == self.schedule.rounds - 1:
            self.emit([self.index, "sent", self.sent], stream="times")


class Sink(Bolt):
    """The receiving side of reduce / broadcast: checks each round, records its arrival."""

    outputs = [TIMES]

    def initialize(self, config, context):
        self.op = config["bench.op"]
        self.producers = config["bench.producers"]
        self.index = context.get_task_index()
        self.rounds = Schedule([Phase(**p) for p in config["bench.phases"]]).rounds
        self.got: list[float] = []

    def process(self, tup):
        self.got.append(time.monotonic())
        _check(tup.values, self.op, self.producers, len(self.got) - 1,
               f"{self.op} sink task {self.index}")
        if len(self.got) == self.rounds:
            self.emit([self.index, "got", self.got], stream="times")


class Spmd(Bolt):
    """Allreduce as an SPMD loop: emits its array, gets the round's sum, emits the next."""

    outputs = [Stream(["array"], name="data"), TIMES]

    def initialize(self, config, context):
        self.tasks = config["bench.producers"]
        self.index = context.get_task_index()
        self.arrays = Arrays("allreduce", self.index)
        self.schedule = Schedule([Phase(**p) for p in config["bench.phases"]])
        self.sent = [0.0] * self.schedule.rounds
        self.got: list[float] = []

    def end_of_stream(self):
        """Runs when ``Start`` has ended, at once: the first rounds."""
        self._emit(self.schedule.first())

    def process(self, tup):
        self.got.append(time.monotonic())
        g = len(self.got) - 1
        _check(tup.values, "allreduce", self.tasks, g, f"allreduce task {self.index}")
        self._emit(self.schedule.after(g))
        if len(self.got) == self.schedule.rounds:
            self.emit([self.index, "sent", self.sent], stream="times")
            self.emit([self.index, "got", self.got], stream="times")

    def _emit(self, rounds: range) -> None:
        for g in rounds:
            array = self.arrays.get(g, self.schedule.phase(g).size)
            self.sent[g] = time.monotonic()
            self.emit([array], stream="data")


def topology(op: str, algorithm: str, p: int, phases: list[Phase],
             extra_config: dict | None = None) -> TopologyBuilder:
    builder = TopologyBuilder(f"collective_{op}_{algorithm}_{p}")
    if op == "allreduce":
        start = builder.add_spout("start", Start, par=1)
        builder.add_bolt("spmd", Spmd, par=p, inputs={
            start: Grouping.ALL,
            GlobalStreamId("spmd", "data"): Grouping.allreduce("sum", algorithm)})
    else:
        pacer = builder.add_spout("pacer", Pacer, par=1, config={BATCH_SIZE: 1})
        source = builder.add_bolt("source", Source, par=1 if op == "broadcast" else p,
                                  inputs={pacer: Grouping.ALL})
        grouping = (Grouping.broadcast(algorithm) if op == "broadcast"
                    else Grouping.reduce("sum", algorithm))
        builder.add_bolt("sink", Sink, par=1 if op == "reduce" else p,
                         inputs={source["data"]: grouping})
    builder.set_config({"topology.stmgrs": 2, "bench.op": op, "bench.phases": [
        asdict(ph) for ph in phases], "bench.producers": 1 if op == "broadcast" else p,
        **(extra_config or {})})
    return builder


@dataclass
class Figures:
    """One (system, op, algorithm, P, size): latencies (s) pooled over runs, each run's p50
    and rate (rounds/s), and how many paced rounds overlapped the next."""

    latencies: list[float] = field(default_factory=list)
    p50s: list[float] = field(default_factory=list)
    rates: list[float] = field(default_factory=list)
    overlapped: int = 0

    def add(self, other: Figures) -> None:
        self.latencies += other.latencies
        self.p50s += other.p50s
        self.rates += other.rates
        self.overlapped += other.overlapped

    def p(self, q: float) -> float:
        return float(np.percentile(self.latencies, q))

    @property
    def rate(self) -> float:
        return statistics.median(self.rates)


def run_heronpy(op: str, algorithm: str, p: int, phases: list[Phase],
                extra_config: dict | None = None) -> dict[int, Figures]:
    """One topology run: {size: figures}, after checking that every task got every round."""
    budget = 60 + sum((ph.end - ph.start) * (ph.pace + ph.size * p / 20e6) for ph in phases)
    result = heronpy.local.run(topology(op, algorithm, p, phases, extra_config),
                               timeout=budget)
    records: dict[str, dict[int, list[float]]] = {"sent": {}, "got": {}}
    for name in ["spmd"] if op == "allreduce" else ["source", "sink"]:
        for task, kind, times in result.outputs(name, "times"):
            records[kind][task] = times
    rounds = phases[-1].end
    receivers = 1 if op == "reduce" else p
    producers = 1 if op == "broadcast" else p
    if (sorted(records["got"]) != list(range(receivers))
            or sorted(records["sent"]) != list(range(producers))
            or any(len(t) != rounds for kind in records.values() for t in kind.values())):
        raise AssertionError(f"{op} {algorithm} P={p}: not every task saw every round")
    sent = np.array([records["sent"][t] for t in range(producers)])
    got = np.array([records["got"][t] for t in range(receivers)])
    last_sent, first_sent, last_got = sent.max(axis=0), sent.min(axis=0), got.max(axis=0)
    out: dict[int, Figures] = {}
    for ph in phases:
        figures = out.setdefault(ph.size, Figures())
        if ph.kind == "latency":
            measured = slice(ph.start + ph.warm, ph.end)
            latencies = last_got[measured] - last_sent[measured]
            figures.latencies += latencies.tolist()
            figures.p50s.append(float(np.median(latencies)))
            if ph.pace:
                figures.overlapped += int((first_sent[ph.start + ph.warm + 1:ph.end]
                                           < last_got[ph.start + ph.warm:ph.end - 1]).sum())
        elif ph.kind == "throughput":
            span = last_got[ph.end - 1] - last_got[ph.start]
            figures.rates.append((ph.end - ph.start - 1) / span)
    return out


# -- MPI -------------------------------------------------------------------------------------
def mpi_python() -> Path:
    return peer_python("mpi", ["mpi4py", "numpy"], "import mpi4py.MPI, numpy")


MPI_ALGORITHMS = {  # Open MPI's coll/tuned ids of heronpy's shapes (ompi_info --param coll tuned)
    "flat": {"reduce": 1, "bcast": 1, "allreduce": 1},  # linear; allreduce: reduce + bcast
    "binary_tree": {"reduce": 4, "bcast": 5, "allreduce": 2},  # allreduce: the two trees
}


def run_mpi(python: Path, p: int, ops: list[str], sizes: list[int],
            scale: float, algorithm: str | None = None) -> dict[tuple[str, int], Figures]:
    """One mpirun of every op and size at P ranks: {(op, size): figures}; with
    ``algorithm``, Open MPI's is forced to it, else Open MPI chooses."""
    plan = [[size, *(max(2, round(n * scale)) for n in _rounds(size)[:2])] for size in sizes]
    forced = [] if algorithm is None else ["--mca", "coll_tuned_use_dynamic_rules", "1"]
    for op, number in MPI_ALGORITHMS.get(algorithm, {}).items():
        forced += ["--mca", f"coll_tuned_{op}_algorithm", str(number)]
    argv = ["mpirun", "--allow-run-as-root", "--oversubscribe", *forced, "-n", str(p),
            str(python), str(MPI_SCRIPT), "--ops", ",".join(ops), "--plan", json.dumps(plan)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=1800)
    if done.returncode:
        raise RuntimeError(f"mpirun -n {p} failed:\n{done.stderr[-2000:]}")
    return {(op, int(size)): Figures(f["latency"], [statistics.median(f["latency"])],
                                     [f["rate"]])
            for op, by_size in json.loads(done.stdout).items() for size, f in by_size.items()}


# -- the experiment --------------------------------------------------------------------------
@dataclass
class Setup:
    sizes: list[int]
    ps: list[int]
    ops: list[str]
    algorithms: list[str]
    runs: int
    scale: float  # of ROUNDS
    mpi: bool
    config: dict = field(default_factory=dict)  # for heronpy's topologies (--config)

    @classmethod
    def default(cls, quick: bool, mpi: bool = True) -> Setup:
        if quick:
            return cls([KB, 32 * KB], [4], list(OPS), list(ALGORITHMS), 1, 0.2, mpi)
        return cls([KB, 32 * KB, 256 * KB, KB * KB], [2, 4, 8, 16], list(OPS), list(ALGORITHMS),
                   1, 1.0, mpi)


@dataclass
class Measured:
    heronpy: dict[tuple[str, str, int, int], Figures] = field(default_factory=dict)
    mpi: dict[tuple[str, int, int], Figures] = field(default_factory=dict)
    mpi_forced: dict[tuple[str, str, int, int], Figures] = field(default_factory=dict)
    """(op, algorithm, P, size): MPI with its algorithm forced to heronpy's, at the largest P."""
    failed: dict[tuple[str, str, int], str] = field(default_factory=dict)


def collect(setup: Setup) -> Measured:
    """Every run: per P, MPI then each algorithm's topologies, allreduce first (its p99 sets
    the other ops' pace). A topology that fails is reported, and not run again."""
    python = mpi_python() if setup.mpi else None
    ops = sorted(setup.ops, key=lambda op: op != "allreduce")
    got = Measured()
    started = time.monotonic()
    for run in range(setup.runs):
        for p in setup.ps:
            if python is not None:
                for (op, size), figures in run_mpi(python, p, ops, setup.sizes,
                                                   setup.scale).items():
                    got.mpi.setdefault((op, p, size), Figures()).add(figures)
                for algorithm in MPI_ALGORITHMS if p == max(setup.ps) else ():
                    for (op, size), figures in run_mpi(python, p, ops, setup.sizes,
                                                       setup.scale, algorithm).items():
                        key = (op, algorithm, p, size)
                        got.mpi_forced.setdefault(key, Figures()).add(figures)
            for algorithm in setup.algorithms:
                pace: dict[int, float] = {}
                for op in ops:
                    if (op, algorithm, p) in got.failed:
                        continue
                    paced = {} if op == "allreduce" else {
                        s: pace.get(s) or _model_pace(p, s) for s in setup.sizes}
                    print(f"run {run + 1}/{setup.runs}: {op} {algorithm} P={p} "
                          f"({time.monotonic() - started:.0f} s)", file=sys.stderr, flush=True)
                    try:
                        by_size = run_heronpy(op, algorithm, p,
                                              make_phases(setup.sizes, setup.scale, paced),
                                              setup.config)
                    except (AssertionError, heronpy.local.TopologyFailed, TimeoutError) as err:
                        got.failed[(op, algorithm, p)] = f"{type(err).__name__}: {err}"[:600]
                        print(f"  FAILED: {got.failed[(op, algorithm, p)]}", file=sys.stderr)
                        continue
                    for size, figures in by_size.items():
                        got.heronpy.setdefault((op, algorithm, p, size), Figures()).add(figures)
                        if op == "allreduce":
                            pace[size] = max(MIN_PACE, 2 * figures.p(99))
    return got


def _model_pace(p: int, size: int) -> float:
    """Seconds between paced rounds when no allreduce was measured: ~20 MB/s per task."""
    return MIN_PACE + p * size / 20e6


# -- report ----------------------------------------------------------------------------------
def parse_size(text: str) -> int:
    text = text.strip().upper().removesuffix("B")
    unit = {"K": KB, "M": KB * KB}.get(text[-1:], 1)
    return int(float(text.rstrip("KM")) * unit)


def size_name(size: int) -> str:
    return f"{size // (KB * KB)}M" if size >= KB * KB else f"{size // KB}K"


def rows(got: Measured) -> list[dict]:
    """One row per heronpy (op, algorithm, P, size), MPI's figures beside it."""
    out = []
    for (op, algorithm, p, size), h in got.heronpy.items():
        m = got.mpi.get((op, p, size))
        row = {"op": op, "algorithm": algorithm, "p": p, "size": size,
               "p50_ms": h.p(50) * 1e3, "p99_ms": h.p(99) * 1e3, "rounds": len(h.latencies),
               "overlapped": h.overlapped, "rounds_per_s": h.rate,
               "mb_per_s": h.rate * size / 1e6, "mpi_p50_ms": None, "mpi_p99_ms": None,
               "mpi_rounds_per_s": None, "ratio_p50": None}
        if m is not None:
            row.update(mpi_p50_ms=m.p(50) * 1e3, mpi_p99_ms=m.p(99) * 1e3,
                       mpi_rounds_per_s=m.rate, ratio_p50=h.p(50) / m.p(50))
        out.append(row)
    order = {"op": OPS.index, "algorithm": ALGORITHMS.index}
    return sorted(out, key=lambda r: (order["op"](r["op"]), order["algorithm"](r["algorithm"]),
                                      r["p"], r["size"]))


def table(setup: Setup, table_rows: list[dict], failed: dict) -> str:
    def num(value: float | None, fmt: str) -> str:
        return "-" if value is None else format(value, fmt)

    lines = [f"collectives, {setup.runs} run(s): latency p50 / p99 over the measured rounds of "
             f"every run; throughput: median over runs; x MPI = heronpy p50 / MPI p50; * = more "
             f"than {OVERLAP_FLAG:.0%} of paced rounds overlapped the next (includes queueing)",
             f"{'op':<10} {'algorithm':<12} {'P':>3} {'size':>5} {'p50 ms':>9} {'p99 ms':>9} "
             f"{'rounds/s':>9} {'MB/s':>8} {'MPI p50':>9} {'MPI p99':>9} {'MPI r/s':>9} "
             f"{'x MPI':>7}"]
    for r in table_rows:
        flag = "*" if r["overlapped"] > OVERLAP_FLAG * r["rounds"] else " "
        lines.append(f"{r['op']:<10} {r['algorithm']:<12} {r['p']:>3} {size_name(r['size']):>5} "
                     f"{r['p50_ms']:>9.3f}{flag}{r['p99_ms']:>9.3f} {r['rounds_per_s']:>9.0f} "
                     f"{r['mb_per_s']:>8.1f} {num(r['mpi_p50_ms'], '9.3f')} "
                     f"{num(r['mpi_p99_ms'], '9.3f')} {num(r['mpi_rounds_per_s'], '9.0f')} "
                     f"{num(r['ratio_p50'], '7.1f')}")
    lines += [f"{op:<10} {algorithm:<12} {p:>3}  FAILED: {why[:300]}"
              for (op, algorithm, p), why in failed.items()]
    return "\n".join(lines)


def check_targets(table_rows: list[dict]) -> list[str]:
    """The issue's targets, each line saying met / NOT met with its figures."""
    by = {(r["op"], r["algorithm"], r["p"], r["size"]): r for r in table_rows}
    lines = []
    for (op, algorithm, p, size), tree in by.items():
        flat = by.get((op, "flat", p, size))
        if algorithm == "binary_tree" and p == 16 and size >= 32 * KB and flat:
            latency = "met" if tree["p50_ms"] < flat["p50_ms"] else "NOT met"
            rate = "met" if tree["rounds_per_s"] > flat["rounds_per_s"] else "NOT met"
            lines.append(f"target binary tree beats flat, {op} P=16 {size_name(size)}: "
                         f"latency {latency} (p50 {tree['p50_ms']:.2f} vs {flat['p50_ms']:.2f} "
                         f"ms), throughput {rate} ({tree['rounds_per_s']:.0f} vs "
                         f"{flat['rounds_per_s']:.0f} rounds/s)")
    for (op, algorithm, p, size), row in by.items():
        if op == "allreduce" and size == KB * KB and row["ratio_p50"] is not None:
            verdict = "met" if row["ratio_p50"] <= 5 else "NOT met"
            lines.append(f"target allreduce within 5x of MPI at 1M, {algorithm} P={p}: "
                         f"{verdict} ({row['p50_ms']:.2f} vs {row['mpi_p50_ms']:.2f} ms, "
                         f"{row['ratio_p50']:.1f}x)")
    return lines


def mpi_trees(got: Measured) -> list[str]:
    """The first target asked of MPI: on this machine, does its binary tree beat its linear
    algorithm (same shapes as heronpy's flat and binary_tree)?"""
    lines = []
    for (op, algorithm, p, size), tree in sorted(got.mpi_forced.items()):
        flat = got.mpi_forced.get((op, "flat", p, size))
        if algorithm == "binary_tree" and flat is not None and size >= 32 * KB:
            verdict = "yes" if tree.p(50) < flat.p(50) else "no"
            lines.append(f"MPI, its algorithm forced: binary tree beats linear, {op} P={p} "
                         f"{size_name(size)}: {verdict} (p50 {tree.p(50) * 1e3:.2f} vs "
                         f"{flat.p(50) * 1e3:.2f} ms)")
    return lines


def plot(table_rows: list[dict], out: Path) -> list[Path]:
    """p50 latency vs size at the largest P, and vs P at 32K (or the nearest size); none
    without matplotlib (the ``bench`` extra)."""
    try:
        import matplotlib
    except ImportError:
        return []

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ops = [op for op in OPS if any(r["op"] == op for r in table_rows)]
    top = max(r["p"] for r in table_rows)
    sizes = sorted({r["size"] for r in table_rows})
    mid = min(sizes, key=lambda s: abs(np.log(s / (32 * KB))))
    written = []
    for name, x, (key, value), label in (
            ("latency_vs_size", "size", ("p", top), f"P = {top}"),
            ("latency_vs_p", "p", ("size", mid), size_name(mid))):
        fig, axes = plt.subplots(1, len(ops), figsize=(5 * len(ops), 4), squeeze=False)
        for ax, op in zip(axes[0], ops, strict=True):
            mine = sorted((r for r in table_rows if r["op"] == op and r[key] == value),
                          key=lambda r: r[x])
            for algorithm in ALGORITHMS:
                line = [r for r in mine if r["algorithm"] == algorithm]
                if line:
                    ax.plot([r[x] for r in line], [r["p50_ms"] for r in line], "o-",
                            label=f"heronpy {algorithm}")
            mpi = {r[x]: r["mpi_p50_ms"] for r in mine if r["mpi_p50_ms"] is not None}
            if mpi:
                ax.plot(list(mpi), list(mpi.values()), "k^--", label="MPI (Open MPI)")
            ax.set(xscale="log", yscale="log", title=f"{op}, {label}",
                   xlabel="message size" if x == "size" else "parallelism P",
                   ylabel="p50 latency (ms)")
            ticks = sizes if x == "size" else sorted({r["p"] for r in table_rows})
            ax.set_xticks(ticks, [size_name(t) if x == "size" else str(t) for t in ticks])
            ax.minorticks_off()
            ax.grid(True, which="both", alpha=0.3)
            ax.legend(fontsize=8)
        fig.tight_layout()
        path = out / f"{name}.png"
        fig.savefig(path, dpi=80)
        plt.close(fig)
        written.append(path)
    return written


def measure(quick: bool = False, peers: bool = False) -> Result:
    """For the suite: p50 latency of each op and size at the largest P, per algorithm and,
    with ``peers``, MPI's, one value per run (3 runs of a third of the rounds each, in full);
    every P, size and algorithm with throughput and the targets in the details, and the
    plots."""
    setup = Setup.default(quick, mpi=peers)
    if not quick:
        setup.runs, setup.scale = 3, 1 / 3
    got = collect(setup)
    p = max(setup.ps)
    table_rows = rows(got)
    result = Result("collectives", f"p50 latency of broadcast / reduce / allreduce of float64 "
                    f"arrays, P = {p}, 2 containers (heronpy) vs mpirun -n {p} (MPI); every P "
                    "below; see benchmarks/collectives.py",
                    details="\n".join([table(setup, table_rows, got.failed),
                                       *check_targets(table_rows), *mpi_trees(got)]))
    if table_rows:
        with tempfile.TemporaryDirectory() as folder:
            result.images = {path.stem: path.read_bytes()
                             for path in plot(table_rows, Path(folder))}
    for op in OPS:
        for size in setup.sizes:
            metric = f"{op} {size_name(size)} p50 ms"
            for algorithm in setup.algorithms:
                for value in got.heronpy.get((op, algorithm, p, size), Figures()).p50s:
                    result.add(f"heronpy, {algorithm}", metric, value * 1e3,
                               higher_is_better=False)
            for value in got.mpi.get((op, p, size), Figures()).p50s:
                result.add("MPI (Open MPI, mpi4py)", metric, value * 1e3,
                           higher_is_better=False)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="P=4, 1K and 32K, fewer rounds: a smoke run (< 2 min)")
    parser.add_argument("--sizes", help="message sizes, e.g. 1K,32K,256K,1M")
    parser.add_argument("--parallelism", help="e.g. 2,4,8,16")
    parser.add_argument("--ops", help=f"from {','.join(OPS)}")
    parser.add_argument("--algorithms", help=f"from {','.join(ALGORITHMS)}")
    parser.add_argument("--runs", type=int)
    parser.add_argument("--no-mpi", action="store_true", help="heronpy only")
    parser.add_argument("--config", action="append", type=config_pair, default=[],
                        metavar="KEY=VALUE", help="topology config for heronpy's runs, e.g. "
                        "heronpy.host.per.container=true (see scripts/link-rate.sh)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/collectives"))
    args = parser.parse_args()
    setup = Setup.default(args.quick, mpi=not args.no_mpi)
    if args.sizes:
        setup.sizes = [parse_size(s) for s in args.sizes.split(",")]
    if args.parallelism:
        setup.ps = [int(p) for p in args.parallelism.split(",")]
    if args.ops:
        setup.ops = args.ops.split(",")
    if args.algorithms:
        setup.algorithms = args.algorithms.split(",")
    if args.runs:
        setup.runs = args.runs
    setup.config = dict(args.config)
    if not set(setup.ops) <= set(OPS) or not set(setup.algorithms) <= set(ALGORITHMS):
        parser.error(f"ops are {OPS}, algorithms {ALGORITHMS}")
    load = os.getloadavg()[0]
    got = collect(setup)
    load = (load, os.getloadavg()[0])
    table_rows = rows(got)
    print(f"machine: {os.cpu_count()} CPUs, 1-minute load average {load[0]:.1f} before the run "
          f"and {load[1]:.1f} after (other work on the machine inflates latencies)"
          + "".join(f"; {key} = {value}" for key, value in setup.config.items()))
    print(table(setup, table_rows, got.failed))
    targets = check_targets(table_rows) + mpi_trees(got)
    for line in targets:
        print(line)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "collectives.json").write_text(json.dumps(
        {"argv": sys.argv[1:], "setup": asdict(setup), "load_average": load, "rows": table_rows,
         "failed": [[*key, why] for key, why in got.failed.items()], "targets": targets},
        indent=1))
    written = plot(table_rows, args.out) if table_rows else []
    print(f"wrote {args.out / 'collectives.json'}"
          + "".join(f", {path}" for path in written))


if __name__ == "__main__":
    main()
