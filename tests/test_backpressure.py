"""Backpressure: a spout much faster than its bolt keeps every process's memory bounded and
loses nothing, with one container and across two."""

import threading
import time

import psutil
import pytest
from helpers import heronpy_processes

import heronpy.local
from heronpy.api.bolt.bolt import Bolt
from heronpy.api.spout.spout import Spout
from heronpy.api.stream import Grouping
from heronpy.api.topology import TopologyBuilder

RSS_BOUND = 150 * 2**20
"""Every topology process stays under this resident size (an idle task uses ~40 MiB). Without
backpressure the queues of the overload test grow by ~100 MiB per 10 seconds."""
DRAIN_BOUND_SECS = 10
"""A run ends within this long after its spout stops (without backpressure: 18 s after 5 s)."""


class FloodSpout(Spout):
    """Emits 0, 1, 2, ... as fast as it can for ``flood.seconds``, then ends."""

    outputs = ["n", "payload"]

    def initialize(self, config, context):
        self.until = time.monotonic() + float(config["flood.seconds"])
        self.n = 0

    def next_tuple(self):
        if time.monotonic() >= self.until:
            raise StopIteration
        for _ in range(100):
            self.emit([self.n, "x" * 40])
            self.n += 1


class SlowCountBolt(Bolt):
    """Spends ``slow.micros`` of CPU per tuple; emits (task, count, sum of n) at the end."""

    outputs = ["task", "count", "total"]

    def initialize(self, config, context):
        self.cost = float(config["slow.micros"]) / 1e6
        self.task = context.get_task_id()
        self.count = self.total = 0

    def process(self, tup):
        until = time.perf_counter() + self.cost
        while time.perf_counter() < until:
            pass
        self.count += 1
        self.total += tup.values[0]

    def end_of_stream(self):
        self.emit([self.task, self.count, self.total])


def _flood(seconds: float, containers: int, bolts: int, grouping) -> TopologyBuilder:
    builder = TopologyBuilder("flood")
    spout = builder.add_spout("flood", FloodSpout, par=1)
    builder.add_bolt("slow", SlowCountBolt, par=bolts, inputs={spout: grouping})
    builder.set_config({"topology.stmgrs": containers, "flood.seconds": seconds,
                        "slow.micros": 20})
    return builder


class _RssSampler(threading.Thread):
    """Samples the resident size of this test's heronpy processes until stopped."""

    def __init__(self):
        super().__init__(daemon=True)
        self.since = time.time() - 1
        self.peak: dict[str, int] = {}
        self.stop = threading.Event()

    def run(self):
        while not self.stop.wait(0.2):
            for proc in heronpy_processes(self.since):
                try:
                    name = " ".join(proc.cmdline()[2:4])
                    self.peak[name] = max(self.peak.get(name, 0), proc.memory_info().rss)
                except psutil.Error:
                    continue


def _run_and_check(builder: TopologyBuilder, seconds: float, timeout: float) -> None:
    sampler = _RssSampler()
    sampler.start()
    started = time.monotonic()
    try:
        result = heronpy.local.run(builder, timeout=timeout)
    finally:
        sampler.stop.set()
        sampler.join()
    # little is in flight when the spout ends, so the bolt catches up quickly (start-up ~2 s)
    assert time.monotonic() - started < seconds + DRAIN_BOUND_SECS
    emitted = result.metrics["flood"]["emitted"]
    rows = result.outputs("slow")
    assert sum(count for _, count, _ in rows) == emitted  # nothing lost, nothing doubled
    assert sum(total for _, _, total in rows) == emitted * (emitted - 1) // 2
    assert result.metrics["slow"]["executed"] == emitted
    assert sampler.peak, "no process was sampled"
    assert max(sampler.peak.values()) < RSS_BOUND, sampler.peak


@pytest.mark.slow
def test_a_spout_ten_times_faster_than_its_bolt_for_30s_stays_bounded_and_loses_nothing():
    # the bolt handles ~40k tuples/s; the spout alone emits > 400k/s
    _run_and_check(_flood(30, containers=1, bolts=1, grouping=Grouping.SHUFFLE), 30, timeout=120)


def test_backpressure_across_containers_with_fields_grouping():
    _run_and_check(_flood(5, containers=2, bolts=3, grouping=Grouping.fields("n")), 5, timeout=90)
