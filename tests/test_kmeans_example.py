"""examples/kmeans.py (an SPMD allreduce loop) gives a single-process numpy k-means's
centroids, and collectives show in ``heronpy explain``."""

import importlib
import runpy
import subprocess

import numpy as np
from helpers import REPO, heronpy_cli, subprocess_env

import heronpy.local

EXAMPLE = REPO / "examples" / "kmeans.py"


def test_kmeans_matches_numpy(monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLE.parent))  # its kmeans_math, as `python FILE` has
    example = runpy.run_path(str(EXAMPLE), run_name="kmeans_example")
    kmeans_math = importlib.import_module("kmeans_math")
    config = example["CONFIG"]
    result = heronpy.local.run(str(EXAMPLE), timeout=120)
    ((iteration, centroids),) = result.outputs("result")
    assert iteration == config["kmeans.iterations"]
    points = kmeans_math.make_points(config["kmeans.points"], config["kmeans.k"],
                                     config["kmeans.seed"])
    want = kmeans_math.reference(points, config["kmeans.k"], config["kmeans.iterations"])
    np.testing.assert_allclose(centroids, want, rtol=0, atol=1e-9)
    assert not np.allclose(want, points[:config["kmeans.k"]])  # the centroids did move
    # every worker did every iteration: one partial out, one allreduce result in, per round
    workers = result.plan.logical.components["kmeans"].parallelism
    assert result.metrics["kmeans"]["executed"] == (config["kmeans.points"]
                                                    + workers * config["kmeans.iterations"])


def test_explain_shows_the_inserted_nodes():
    out = subprocess.run([*heronpy_cli(), "explain", str(EXAMPLE)], capture_output=True,
                         text=True, timeout=60, env=subprocess_env(), check=True).stdout
    assert "collective allreduce kmeans:partials -> kmeans  (binary_tree, degree 2, depth 4)" \
        in out
    assert out.count("combines") == 3 and out.count("leaf of kmeans") == 4
