"""Backpressure: a spout much faster than its bolt keeps every process's memory bounded and
loses nothing, with one container and across two."""

import threading
import time

import msgpack
import numpy as np
import psutil
import pytest
import zmq
from helpers import heronpy_processes

import heronpy.local
from heronpy.api.bolt.bolt import Bolt
from heronpy.api.spout.spout import Spout
from heronpy.api.stream import Grouping
from heronpy.api.topology import TopologyBuilder
from heronpy.runtime.rundir import RunDir
from heronpy.runtime.tmaster import TopologyMaster
from heronpy.topology.physical import PhysicalPlan

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


class Contribution(Bolt):
    """Turns each tuple into an 8 KiB array for a collective (inline: below the shm
    threshold, so whatever waits to be sent is this process's memory)."""

    outputs = ["array"]

    def process(self, tup):
        self.emit([np.ones(1024)])


class ReduceSink(Bolt):
    """Emits (rounds, contributions counted) at the end."""

    outputs = ["rounds", "contributions"]

    def initialize(self, config, context):
        self.rounds = self.contributions = 0

    def process(self, tup):
        self.rounds += 1
        self.contributions += int(tup.values[0][0])

    def end_of_stream(self):
        self.emit([self.rounds, self.contributions])


def test_a_collective_whose_direct_sends_wait_pauses_the_spouts():
    """Bolts contribute to a collective consumer on their host task to task
    (transport/direct.py), each tuple they take becoming 8 KiB. While their sends wait they
    take no new input, which pauses the spout, so memory stays bounded (without that, a bolt
    process reached ~190 MiB here, and more the longer the flood)."""
    seconds = 3
    builder = TopologyBuilder("collective_flood")
    spout = builder.add_spout("flood", FloodSpout, par=1, config={"heronpy.batch.size": 100})
    bolts = builder.add_bolt("contribute", Contribution, par=2, inputs={spout: Grouping.SHUFFLE})
    builder.add_bolt("sink", ReduceSink, par=1,
                     inputs={bolts: Grouping.reduce("sum", "flat")})
    builder.set_config({"topology.stmgrs": 2, "flood.seconds": seconds})
    sampler = _RssSampler()
    sampler.start()
    started = time.monotonic()
    try:
        result = heronpy.local.run(builder, timeout=90)
    finally:
        sampler.stop.set()
        sampler.join()
    assert time.monotonic() - started < seconds + DRAIN_BOUND_SECS
    emitted = result.metrics["flood"]["emitted"]
    ((rounds, contributions),) = result.outputs("sink")
    assert contributions == emitted and emitted / 2 <= rounds < emitted  # nothing lost
    assert sum(m["direct_frames"] for m in result.metrics["contribute"]["tasks"].values()) > 0
    assert max(sampler.peak.values()) < RSS_BOUND, sampler.peak


class FakeStreamManagers:
    """Plays the stream managers of a real topology master (run in a thread): register,
    report backpressure, be replaced by a successor (a restart) with the same name."""

    def __init__(self, master: TopologyMaster):
        self._ctx = zmq.Context()
        self._endpoint = master.endpoint
        self.socks: dict[int, zmq.Socket] = {}

    def start(self, container: int) -> None:
        old = self.socks.pop(container, None)
        if old is not None:
            old.close(linger=0)  # died: its successor takes over its name
        sock = self.socks[container] = self._ctx.socket(zmq.DEALER)
        sock.routing_id = f"stmgr-{container}".encode()
        sock.connect(self._endpoint)
        self.send(container, {"type": "register_stmgr", "container": container,
                              "endpoint": f"tcp://127.0.0.1:{5000 + container}"})

    def send(self, container: int, message: dict) -> None:
        self.socks[container].send(msgpack.packb(message))

    def next(self, container: int, kind: str) -> dict:
        """The next message of type ``kind`` that ``container`` receives (others skipped)."""
        deadline = time.monotonic() + 10
        while self.socks[container].poll(max(0.0, deadline - time.monotonic()) * 1000):
            message = msgpack.unpackb(self.socks[container].recv(), strict_map_key=False)
            if message["type"] == kind:
                return message
        raise AssertionError(f"container {container} got no {kind!r} in 10 s")

    def close(self) -> None:
        self._ctx.destroy(linger=0)


def test_a_restarted_stream_manager_ends_the_backpressure_its_predecessor_asked_for(
        rundir_parent):
    """A stream manager that dies congested (killed, or its node cut off) never says its queues
    drained: its successor's registration must resume the others' spouts, or they stay paused
    for ever (seen: an endless topology stuck after a node was cut off). A successor that joins
    while another container is congested pauses its spouts with the others."""
    plan = PhysicalPlan.pack(_flood(1, containers=2, bolts=2, grouping=Grouping.SHUFFLE).build())
    master = TopologyMaster(RunDir.create(plan, parent=rundir_parent), "127.0.0.1")
    thread = threading.Thread(target=master.run)
    thread.start()
    stmgrs = FakeStreamManagers(master)
    try:
        for container in (0, 1):
            stmgrs.start(container)
        stmgrs.next(0, "plan")
        stmgrs.send(1, {"type": "backpressure", "container": 1, "on": True})
        assert stmgrs.next(0, "backpressure")["on"] is True
        stmgrs.start(1)  # container 1 restarted, its predecessor still congested
        assert stmgrs.next(0, "backpressure")["on"] is False
        assert stmgrs.next(1, "backpressure")["on"] is False
        stmgrs.send(0, {"type": "backpressure", "container": 0, "on": True})
        assert stmgrs.next(1, "backpressure")["on"] is True
        stmgrs.start(1)  # again, while container 0 is congested
        stmgrs.next(1, "plan")
        assert stmgrs.next(1, "backpressure")["on"] is True
    finally:
        stmgrs.send(0, {"type": "kill"})
        thread.join(10)
        stmgrs.close()
    assert not thread.is_alive()
