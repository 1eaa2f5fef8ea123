"""MPI's figures for benchmarks/collectives.py: Bcast, Reduce and Allreduce of float64 arrays.

    mpirun -n P python mpi_collectives.py --ops allreduce,reduce,broadcast \\
        --plan '[[bytes, warm-up, rounds], ...]'

Runs with mpi4py and numpy only (in its own venv, see ``benchmarks.peers``); rank 0 prints one
JSON object: {op: {bytes: {"latency": [s per round], "rate": rounds/s}}}.

- latency: each round starts after a barrier; its latency is the last rank's finish minus the
  last rank's start (CLOCK_MONOTONIC, shared by every process of the machine), the same
  definition as heronpy's figures. Each round's result is checked outside the timed region.
- rate: ``rounds`` operations back to back between two barriers, in rounds per second.

``contribution`` and ``expected`` define every array of both systems' runs: whole numbers,
so a sum is exact whatever the order in which the arrays meet. mpi4py is imported in ``main``
only, so that heronpy's side can import them.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np


def contribution(op: str, index: int, round_id: int) -> float:
    """Every element of the array task (rank) ``index`` sends in round ``round_id``."""
    return round_id % 7 + 1 if op == "broadcast" else index + 1 + round_id % 5


def expected(op: str, tasks: int, round_id: int) -> float:
    """Every element of round ``round_id``'s result over ``tasks`` contributors."""
    if op == "broadcast":
        return contribution(op, 0, round_id)
    return tasks * (tasks + 1) // 2 + tasks * (round_id % 5)


def main() -> None:
    from mpi4py import MPI

    parser = argparse.ArgumentParser()
    parser.add_argument("--ops", required=True)
    parser.add_argument("--plan", required=True)
    args = parser.parse_args()
    comm = MPI.COMM_WORLD
    out: dict = {}
    for op in args.ops.split(","):
        for nbytes, warmup, rounds in json.loads(args.plan):
            out.setdefault(op, {})[nbytes] = measure(comm, op, nbytes // 8, warmup, rounds)
    if comm.Get_rank() == 0:
        print(json.dumps(out))


def measure(comm, op: str, n: int, warmup: int, rounds: int) -> dict:
    """One op at one size: per-round latencies (rank 0 only) and the back-to-back rate."""
    from mpi4py import MPI

    rank, size = comm.Get_rank(), comm.Get_size()
    send, recv = np.zeros(n), np.zeros(n)
    call = {"allreduce": lambda: comm.Allreduce(send, recv, op=MPI.SUM),
            "reduce": lambda: comm.Reduce(send, recv, op=MPI.SUM, root=0),
            "broadcast": lambda: comm.Bcast(send, root=0)}[op]
    spans = np.zeros((warmup + rounds, 2))
    for r in range(warmup + rounds):
        send.fill(0 if op == "broadcast" and rank else contribution(op, rank, r))
        comm.Barrier()
        spans[r, 0] = time.monotonic()
        call()
        spans[r, 1] = time.monotonic()
        if rank == 0 or op != "reduce":
            got = send if op == "broadcast" else recv
            if not (got == expected(op, size, r)).all():
                raise AssertionError(f"MPI {op}, rank {rank}, round {r}: got {got[:3]}..., "
                                     f"expected {expected(op, size, r)}")
    every = comm.gather(spans[warmup:], root=0)
    comm.Barrier()
    started = time.monotonic()
    for _ in range(rounds):
        call()
    comm.Barrier()
    rate = rounds / (time.monotonic() - started)
    if rank:
        return {}
    every = np.stack(every)  # rank, round, (start, end)
    latency = every[:, :, 1].max(axis=0) - every[:, :, 0].max(axis=0)
    return {"latency": latency.tolist(), "rate": rate}


if __name__ == "__main__":
    main()
