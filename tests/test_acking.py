"""ATLEAST_ONCE: every spout tuple is acked once its tree is processed; failed and timed-out
trees reach the spout's fail and are replayed; max.spout.pending bounds what is in flight."""

import heronpy.api.api_constants as constants
import heronpy.local
from heronpy.api.bolt.bolt import Bolt
from heronpy.api.spout.spout import Spout
from heronpy.api.stream import Grouping, Stream
from heronpy.api.topology import TopologyBuilder
from heronpy.stmgr.acker import Acker
from heronpy.transport.frame import ROOT_TASK_SHIFT

N = 2000
RELIABLE = {constants.TOPOLOGY_RELIABILITY_MODE:
            constants.TopologyReliabilityMode.ATLEAST_ONCE, "topology.stmgrs": 2}


class ReplayingSpout(Spout):
    """Emits 0..N-1 with tup_id = n, re-emits what fails; reports acks, fails and the most
    tuples it ever had in flight."""

    outputs = ["n", Stream(["event", "n"], name="log")]

    def initialize(self, config, context):
        self.todo = list(range(N))[::-1]
        self.in_flight = set()
        self.most_in_flight = 0

    def next_tuple(self):
        if not self.todo:
            raise StopIteration
        n = self.todo.pop()
        self.in_flight.add(n)
        self.most_in_flight = max(self.most_in_flight, len(self.in_flight))
        self.emit([n], tup_id=n)

    def ack(self, tup_id):
        self.in_flight.discard(tup_id)
        self.emit(["acked", tup_id], stream="log")

    def fail(self, tup_id):
        self.in_flight.discard(tup_id)
        self.todo.append(tup_id)
        self.emit(["failed", tup_id], stream="log")


class Doubler(Bolt):
    """Emits n twice (anchored), acks its input."""

    outputs = ["n"]

    def process(self, tup):
        self.emit([tup.values[0]], anchors=[tup])
        self.emit([tup.values[0]], anchors=[tup])
        self.ack(tup)


class Picky(Bolt):
    """Fails (or ignores, with ``picky.ignore``) every n % 10 == 0 the first time it sees it;
    acks everything else. Emits what it accepted."""

    outputs = ["n"]

    def initialize(self, config, context):
        self.ignore = bool(config.get("picky.ignore"))
        self.seen = set()

    def process(self, tup):
        n = tup.values[0]
        if n % 10 == 0 and n not in self.seen:
            self.seen.add(n)
            if not self.ignore:
                self.fail(tup)
            return
        self.emit([n])
        self.ack(tup)


def _run(config: dict | None = None, spout_class=ReplayingSpout):
    builder = TopologyBuilder("acking")
    spout = builder.add_spout("numbers", spout_class, par=1)
    doubled = builder.add_bolt("double", Doubler, par=2, inputs={spout: Grouping.SHUFFLE})
    builder.add_bolt("picky", Picky, par=3, inputs={doubled: Grouping.fields("n")})
    builder.set_config({**RELIABLE, **(config or {})})
    result = heronpy.local.run(builder, timeout=90)
    log = result.outputs("numbers", "log")
    return result, [n for e, n in log if e == "acked"], [n for e, n in log if e == "failed"]


def test_every_tuple_is_acked_once_and_failed_trees_are_replayed():
    result, acked, failed = _run()
    assert sorted(acked) == list(range(N))  # each exactly once, after its replay if any
    assert sorted(failed) == list(range(0, N, 10))  # both copies of n fail the same root once
    accepted = [n for (n,) in result.outputs("picky")]
    assert sorted(set(accepted)) == list(range(N))


def test_trees_that_are_never_acked_time_out_and_are_replayed():
    _, acked, failed = _run({"picky.ignore": True, constants.TOPOLOGY_MESSAGE_TIMEOUT_SECS: 1})
    assert sorted(acked) == list(range(N))
    assert sorted(failed) == list(range(0, N, 10))


class TrackPending(ReplayingSpout):
    def ack(self, tup_id):
        super().ack(tup_id)
        self.emit(["most", self.most_in_flight], stream="log")


def test_max_spout_pending_bounds_the_tuples_in_flight():
    result, acked, _ = _run({constants.TOPOLOGY_MAX_SPOUT_PENDING: 7}, TrackPending)
    assert sorted(acked) == list(range(N))
    most = max(n for event, n in result.outputs("numbers", "log") if event == "most")
    assert 1 < most <= 7

def test_at_most_once_is_the_default_and_carries_no_roots():
    class RootsBolt(Bolt):
        outputs = ["roots"]

        def process(self, tup):
            self.emit([tup.roots])

    builder = TopologyBuilder("atmost")
    spout = builder.add_spout("numbers", ReplayingSpout, par=1)
    builder.add_bolt("roots", RootsBolt, par=1, inputs={spout: Grouping.SHUFFLE})
    result = heronpy.local.run(builder, timeout=60)
    assert result.outputs("roots") == [(None,)] * N
    assert result.outputs("numbers", "log") == []  # no acks in ATMOST_ONCE


def test_a_fail_that_comes_before_its_roots_announcement_still_fails_it():
    """Spouts' frames take another queue than bolts' in the stream manager: a bolt's fail
    can come first (it was lost, and the tree timed out instead)."""
    acker = Acker(timeout_secs=10)
    root = (7 << ROOT_TASK_SHIFT) + 1
    acker.fail(root, now=0.0)
    acker.init(root, 0b1010, now=0.1)
    assert acker.results() == ({}, {7: [root]})
    acker.expire(now=100.0)
    assert acker.results() == ({}, {})
    late = (7 << ROOT_TASK_SHIFT) + 2  # a fail for a root that is done: forgotten in time
    acker.fail(late, now=100.0)
    acker.expire(now=111.0)
    acker.init(late, 0b1, now=112.0)
    assert acker.results() == ({}, {}) and len(acker) == 1
