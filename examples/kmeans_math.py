"""k-means in numpy only: the points, one iteration's per-centroid sums and counts, the move,
and the single-process reference. Apart from examples/kmeans.py so that programs without
heronpy (benchmarks/peer_programs/kmeans_mpi.py, in an mpi4py venv) use the same code."""

import numpy as np


def make_points(n: int, k: int, seed: int) -> np.ndarray:
    """``n`` 2-d points around ``k`` random centres."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-10, 10, size=(k, 2))
    return centres[rng.integers(0, k, size=n)] + rng.normal(size=(n, 2))


def assign(points: np.ndarray, centroids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-centroid sums and counts of the points nearest to each centroid."""
    nearest = ((points[:, None, :] - centroids[None, :, :]) ** 2).sum(axis=2).argmin(axis=1)
    sums = np.zeros_like(centroids)
    np.add.at(sums, nearest, points)
    return sums, np.bincount(nearest, minlength=len(centroids)).astype(float)


def move(centroids: np.ndarray, sums: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The new centroids; one without points stays where it is."""
    moved = centroids.copy()
    has = counts > 0
    moved[has] = sums[has] / counts[has, None]
    return moved


def reference(points: np.ndarray, k: int, iterations: int) -> np.ndarray:
    """k-means in one process, starting from the first ``k`` points."""
    centroids = points[:k].copy()
    for _ in range(iterations):
        centroids = move(centroids, *assign(points, centroids))
    return centroids
