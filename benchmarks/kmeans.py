"""Streaming k-means: time per iteration of examples/kmeans.py's topology (an allreduce per
iteration) vs the same iterations under MPI (mpi4py) and in one numpy process.

    python -m benchmarks.kmeans [--quick] [--runs 3] [--no-mpi]

The workload: ``FULL`` (200,000 2-d points, k = 16, 30 iterations: 2-5 s of iterations per
system on 2 cores, ~13 s per run of all three, start-ups included) or ``QUICK`` (20,000
points, 10 iterations: ~6 s in all). Every system does the same arithmetic
(examples/kmeans_math.py):

- heronpy: examples/kmeans.py's spout and worker (``kmeans`` at par 4, 2 containers, its
  "partials" stream allreduced into itself), the worker subclassed to time its iterations:
  from its first assignment (its points in, made an array) to its last move. Start-up and
  the spout's emission of points are not counted. The figure is the slowest task's time
  (the one that started first: it also waits for the others' first partials) / iterations.
- MPI: benchmarks/peer_programs/kmeans_mpi.py under ``mpirun --oversubscribe -n 4`` (Open
  MPI, shared memory, mpi4py's venv, see ``benchmarks.peers``): each rank a quarter of the
  points, one ``Allreduce`` of sums and counts per iteration, timed between two barriers
  (the slowest rank).
- numpy, 1 process: ``reference`` on all the points in this process, the COST baseline; its
  centroids are what the others must give, to 1e-9 (every heronpy task's, and MPI's).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import heronpy.local
from benchmarks.collectives import mpi_python
from benchmarks.suite import Result
from heronpy.api.component.component_spec import GlobalStreamId
from heronpy.api.stream import Grouping, Stream
from heronpy.api.topology import TopologyBuilder

# examples/kmeans.py imports its sibling kmeans_math, as `python examples/kmeans.py` would
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
from kmeans import KMeansWorker, PointSpout
from kmeans_math import make_points, reference

WORKERS = 4
CONTAINERS = 2
TOLERANCE = 1e-9  # max abs difference from the numpy centroids
MPI_PROGRAM = Path(__file__).parent / "peer_programs" / "kmeans_mpi.py"
METRIC = "ms per iteration"


@dataclass(frozen=True)
class Workload:
    points: int
    k: int
    iterations: int
    seed: int = 7

    def describe(self) -> str:
        return f"{self.points:,} 2-d points, k = {self.k}, {self.iterations} iterations"


FULL = Workload(200_000, 16, 30)
QUICK = Workload(20_000, 16, 10)


class TimedWorker(KMeansWorker):
    """examples/kmeans.py's worker that also emits, on a stream nothing subscribes to, how long
    its iterations took and its final centroids."""

    outputs = [*KMeansWorker.outputs, Stream(["task", "seconds", "centroids"], name="timing")]

    def initialize(self, config, context):
        super().initialize(config, context)
        self.task = context.get_task_index()
        self.started: float | None = None

    def contribute(self):
        if self.started is None:  # the first iteration: every point of this task is in
            self.started = time.monotonic()
        super().contribute()

    def process(self, tup):
        super().process(tup)
        if tup.stream == "partials" and self.iteration == self.iterations:
            self.emit([self.task, time.monotonic() - self.started, self.centroids],
                      stream="timing")


def topology(work: Workload) -> TopologyBuilder:
    """examples/kmeans.py's topology with the timed worker and without the result bolt."""
    builder = TopologyBuilder("kmeans_bench")
    points = builder.add_spout("points", PointSpout, par=1)
    builder.add_bolt("kmeans", TimedWorker, par=WORKERS, inputs={
        points: Grouping.SHUFFLE,
        GlobalStreamId("kmeans", "partials"): Grouping.allreduce("sum")})
    builder.set_config({"topology.stmgrs": CONTAINERS, "kmeans.points": work.points,
                        "kmeans.k": work.k, "kmeans.iterations": work.iterations,
                        "kmeans.seed": work.seed})
    return builder


def check(system: str, centroids, want: np.ndarray) -> None:
    diff = float(np.abs(np.asarray(centroids) - want).max())
    if not diff <= TOLERANCE:
        raise AssertionError(f"{system}: centroids differ from numpy's by {diff:.3g}")


def run_heronpy(work: Workload, want: np.ndarray) -> float:
    """ms per iteration of the slowest task, after checking every task's centroids."""
    result = heronpy.local.run(topology(work), timeout=300)
    timings = sorted(result.outputs("kmeans", "timing"), key=lambda row: row[0])
    if [task for task, _, _ in timings] != list(range(WORKERS)):
        raise AssertionError(f"heronpy: timings from tasks {[row[0] for row in timings]}")
    for task, _, centroids in timings:
        check(f"heronpy task {task}", centroids, want)
    return max(seconds for _, seconds, _ in timings) / work.iterations * 1e3


def run_numpy(points: np.ndarray, work: Workload) -> tuple[float, np.ndarray]:
    """ms per iteration of ``reference`` in this process, and its centroids."""
    started = time.perf_counter()
    centroids = reference(points, work.k, work.iterations)
    return (time.perf_counter() - started) / work.iterations * 1e3, centroids


def run_mpi(python: Path, work: Workload, want: np.ndarray) -> float:
    """ms per iteration of the slowest rank, after checking the centroids."""
    argv = ["mpirun", "--allow-run-as-root", "--oversubscribe", "-n", str(WORKERS), str(python),
            str(MPI_PROGRAM), "--points", str(work.points), "--k", str(work.k),
            "--iterations", str(work.iterations), "--seed", str(work.seed)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    if done.returncode:
        raise RuntimeError(f"mpirun -n {WORKERS} failed:\n{done.stderr[-2000:]}")
    out = json.loads(done.stdout)
    check("MPI", out["centroids"], want)
    return out["seconds"] / work.iterations * 1e3


def measure(quick: bool = False, peers: bool = False, runs: int | None = None) -> Result:
    """heronpy, numpy and (``peers``) MPI, taking turns each run."""
    work = QUICK if quick else FULL
    runs = runs or (1 if quick else 3)
    result = Result("kmeans", f"streaming k-means, {work.describe()}: time per iteration, "
                    f"points loaded (heronpy: par {WORKERS}, {CONTAINERS} containers, an "
                    f"allreduce per iteration; MPI: mpirun -n {WORKERS}, an Allreduce per "
                    "iteration); see benchmarks/kmeans.py")
    points = make_points(work.points, work.k, work.seed)
    python = mpi_python() if peers else None
    for _ in range(runs):  # the heronpy figure first: what ratios compare
        numpy_ms, want = run_numpy(points, work)
        result.add(f"heronpy, par {WORKERS}, {CONTAINERS} containers", METRIC,
                   run_heronpy(work, want), higher_is_better=False)
        if python is not None:
            result.add(f"MPI (Open MPI, mpi4py), {WORKERS} ranks", METRIC,
                       run_mpi(python, work, want), higher_is_better=False)
        result.add("numpy, 1 process", METRIC, numpy_ms, higher_is_better=False)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK.describe()}, 1 run")
    parser.add_argument("--runs", type=int, help="default: 3, or 1 with --quick")
    parser.add_argument("--no-mpi", action="store_true", help="heronpy and numpy only")
    args = parser.parse_args()
    print(measure(quick=args.quick, peers=not args.no_mpi, runs=args.runs).table())


if __name__ == "__main__":
    main()
