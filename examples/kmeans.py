"""Streaming k-means with an allreduce: the Map-Collective pattern in a topology.

    heronpy submit local examples/kmeans.py

points (spout) -> kmeans (par 4, shuffle grouping): each worker keeps the points it receives.
When the points end, every worker computes, for its own points, the per-centroid sums and
counts under the current centroids and emits them on its "partials" stream, to which the
component itself subscribes with ``Grouping.allreduce("sum")``: each round, every worker gets
the sums over all workers, moves the centroids, and contributes the next round. After
``kmeans.iterations`` rounds the first worker emits the centroids. The result equals a
single-process numpy k-means (``reference``) on the same points and seed; the numpy parts
are in examples/kmeans_math.py.
"""

import numpy as np
from kmeans_math import assign, make_points, move

from heronpy.api.bolt.bolt import Bolt
from heronpy.api.component.component_spec import GlobalStreamId
from heronpy.api.spout.spout import Spout
from heronpy.api.stream import Grouping, Stream
from heronpy.api.topology import TopologyBuilder

CONFIG = {"kmeans.points": 20_000, "kmeans.k": 5, "kmeans.iterations": 10, "kmeans.seed": 7}


class PointSpout(Spout):
    outputs = ["x", "y"]

    def initialize(self, config, context):
        points = make_points(config["kmeans.points"], config["kmeans.k"], config["kmeans.seed"])
        self.points = iter(points.tolist())

    def next_tuple(self):
        self.emit(next(self.points))  # StopIteration ends the stream


class KMeansWorker(Bolt):
    outputs = [Stream(["sums", "counts"], name="partials"),
               Stream(["iteration", "centroids"], name="centroids")]

    def initialize(self, config, context):
        self.k = config["kmeans.k"]
        self.iterations = config["kmeans.iterations"]
        # the start: the first k points, which every worker regenerates from the shared seed
        self.centroids = make_points(config["kmeans.points"], self.k,
                                     config["kmeans.seed"])[:self.k]
        self.first = context.get_task_id() == min(context.get_component_tasks("kmeans"))
        self.coords: list[list[float]] = []
        self.iteration = 0

    def process(self, tup):
        if tup.stream == "partials":  # the sums over every worker: one iteration done
            self.centroids = move(self.centroids, *tup.values)
            self.iteration += 1
            if self.iteration < self.iterations:
                self.contribute()
            elif self.first:
                self.emit([self.iteration, self.centroids], stream="centroids")
        else:
            self.coords.append(tup.values)

    def end_of_stream(self):
        """Every point is in: the first iteration."""
        self.points = np.array(self.coords, dtype=float).reshape(-1, 2)
        self.contribute()

    def contribute(self):
        self.emit(list(assign(self.points, self.centroids)), stream="partials")


class Centroids(Bolt):
    outputs = ["iteration", "centroids"]

    def process(self, tup):
        self.emit(tup.values)


builder = TopologyBuilder("kmeans")
points = builder.add_spout("points", PointSpout, par=1)
kmeans = builder.add_bolt("kmeans", KMeansWorker, par=4, inputs={
    points: Grouping.SHUFFLE,
    GlobalStreamId("kmeans", "partials"): Grouping.allreduce("sum"),
})
builder.add_bolt("result", Centroids, par=1, inputs={kmeans["centroids"]: Grouping.SHUFFLE})
builder.set_config({"topology.stmgrs": 2, **CONFIG})

if __name__ == "__main__":
    builder.build_and_submit()
