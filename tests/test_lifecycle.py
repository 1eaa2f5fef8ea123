"""Lifecycle of a running topology: deactivate stops the spouts' emission within a second,
activate resumes it; status reports containers, tasks and their counts."""

import time

from helpers import wait_until

import heronpy.local
from heronpy.api.bolt.bolt import Bolt
from heronpy.api.spout.spout import Spout
from heronpy.api.stream import Grouping, Stream
from heronpy.api.topology import TopologyBuilder

TUPLES = 6000


class PacedSpout(Spout):
    """TUPLES tuples stamped with their emit time, ~3000 a second; records its hooks."""

    outputs = ["seq", "at", Stream(["hook", "at"], name="hooks")]

    def initialize(self, config, context):
        self.seq = 0

    def next_tuple(self):
        if self.seq == TUPLES:
            raise StopIteration
        time.sleep(0.0003)  # pacing, so that the run lasts a few seconds
        self.emit([self.seq, time.time()])
        self.seq += 1

    def activate(self):
        self.emit(["activate", time.time()], stream="hooks")

    def deactivate(self):
        self.emit(["deactivate", time.time()], stream="hooks")


class Sink(Bolt):
    outputs = ["seq", "at"]

    def process(self, tup):
        self.emit(tup.values)


def topology():
    builder = TopologyBuilder("lifecycle")
    spout = builder.add_spout("spout", PacedSpout, par=2)
    builder.add_bolt("sink", Sink, par=2, inputs={spout: Grouping.SHUFFLE})
    builder.set_config({"topology.stmgrs": 2})
    return builder


def emitted(run) -> int:
    return sum(t.get("emitted", 0) for t in run.status()["tasks"].values()
               if t["component"] == "spout")


def test_deactivate_stops_emission_and_activate_resumes_it():
    with heronpy.local.start(topology()) as run:
        wait_until(lambda: emitted(run) > 500, 30, "the spouts to emit")
        status = run.status()
        assert status["active"] and status["registered"] == [0, 1] and status["lost"] == []
        assert {t["container"] for t in status["tasks"].values()} == {0, 1}
        run.deactivate()
        deactivated = time.time()
        time.sleep(1.5)  # the window in which nothing may be emitted
        assert not run.status()["active"]
        run.activate()
        activated = time.time()
        result = run.result(timeout=60)
    times = sorted(at for _, at in result.outputs("sink"))
    assert len(times) == 2 * TUPLES  # nothing lost
    paused = [at for at in times if deactivated + 1.0 < at < activated]
    assert paused == []
    assert any(at < deactivated for at in times) and any(at > activated for at in times)
    hooks = sorted(result.outputs("spout", "hooks"), key=lambda h: h[1])
    assert [h for h, _ in hooks] == ["deactivate"] * 2 + ["activate"] * 2
    assert all(deactivated - 1 < at < deactivated + 1 for h, at in hooks if h == "deactivate")
