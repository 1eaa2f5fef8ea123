"""MPI's side of benchmarks/kmeans.py: the same k-means iterations as examples/kmeans.py's
topology, each rank on its share of the points, one ``Allreduce`` per iteration.

    mpirun -n P python kmeans_mpi.py --points 200000 --k 16 --iterations 30 --seed 7

Runs with mpi4py and numpy only (in its own venv, see ``benchmarks.peers``), on the numpy
code of examples/kmeans_math.py. Every rank makes all the points from the seed and keeps
every P-th one (the sums do not depend on the split). The iterations run between two
barriers; rank 0 prints one JSON object: {"seconds": the slowest rank's time for all
iterations, "centroids": [[x, y], ...]}, which the benchmark checks.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from mpi4py import MPI

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))  # kmeans_math
from kmeans_math import assign, make_points, move


def iterate(comm, points: np.ndarray, centroids: np.ndarray, iterations: int) -> np.ndarray:
    """``iterations`` rounds: local sums and counts, summed over every rank in one call."""
    k = len(centroids)
    total = np.empty((k, 3))
    for _ in range(iterations):
        sums, counts = assign(points, centroids)
        comm.Allreduce(np.hstack([sums, counts[:, None]]), total, op=MPI.SUM)
        centroids = move(centroids, total[:, :2], total[:, 2])
    return centroids


def main() -> None:
    parser = argparse.ArgumentParser()
    for name in ("points", "k", "iterations", "seed"):
        parser.add_argument(f"--{name}", type=int, required=True)
    args = parser.parse_args()
    comm = MPI.COMM_WORLD
    everything = make_points(args.points, args.k, args.seed)
    mine = np.ascontiguousarray(everything[comm.Get_rank()::comm.Get_size()])
    comm.Barrier()
    started = time.monotonic()
    centroids = iterate(comm, mine, everything[:args.k].copy(), args.iterations)
    comm.Barrier()
    seconds = comm.reduce(time.monotonic() - started, op=MPI.MAX, root=0)
    if comm.Get_rank() == 0:
        print(json.dumps({"seconds": seconds, "centroids": centroids.tolist()}))


if __name__ == "__main__":
    main()
