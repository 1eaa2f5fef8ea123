"""Collective groupings end to end: every kind x algorithm, at parallelism 1, 2, 3, 5 and 8,
over 1 and 2 containers, with numpy arrays and scalars, built-in and custom ops, a slow
producer and a producer that stops one round early (its last round is partial)."""

import os
import time

import numpy as np
import pytest

import heronpy.local
from heronpy.api.bolt.bolt import Bolt
from heronpy.api.component.component_spec import GlobalStreamId
from heronpy.api.spout.spout import Spout
from heronpy.api.stream import Grouping, Stream
from heronpy.api.topology import TopologyBuilder
from heronpy.instance import codec
from heronpy.topology.logical import InvalidTopologyError
from heronpy.topology.physical import PhysicalPlan
from heronpy.windows import Count, WindowedBolt

ROUNDS = 4
ALGORITHMS = ["flat", "binary_tree", "ring"]
OPS = {"sum": np.add, "min": np.minimum, "max": np.maximum, "prod": np.multiply,
       "hypot": np.hypot}  # hypot: a custom op, associative and commutative


def streams() -> dict[str, object]:
    """Stream name -> grouping: each kind with each algorithm, and each op once."""
    out = {}
    for algorithm in ALGORITHMS:
        out[f"broadcast_{algorithm}"] = Grouping.broadcast(algorithm)
        out[f"reduce_{algorithm}"] = Grouping.reduce("sum", algorithm)
        out[f"allreduce_{algorithm}"] = Grouping.allreduce("sum", algorithm)
        out[f"gather_{algorithm}"] = Grouping.gather(algorithm)
        out[f"allgather_{algorithm}"] = Grouping.allgather(algorithm)
    for op in ("min", "max", "prod"):
        out[f"allreduce_{op}"] = Grouping.allreduce(op, degree=3)
    out["reduce_hypot"] = Grouping.reduce(np.hypot, "binary_tree")
    return out


def contribution(index: int, round_id: int) -> list:
    return [round_id, np.arange(1.0, 11.0).reshape(2, 5) * (index + 1) + round_id,
            float(index + 2)]


class Producer(Spout):
    """Emits ROUNDS tuples on every stream; task 0 slowly; the last task one round fewer."""

    outputs = [Stream(["round", "array", "scalar"], name=name) for name in streams()]

    def initialize(self, config, context):
        self.index = context.get_task_id() - min(context.get_component_tasks("producer"))
        self.rounds = ROUNDS - (self.index == config["parallelism"] - 1
                                and config["parallelism"] > 1)
        self.emitted = 0

    def next_tuple(self):
        if self.emitted == self.rounds:
            raise StopIteration
        if self.index == 0:
            time.sleep(0.01)  # a slow producer: the others run ahead by whole rounds
        for name in streams():
            self.emit(contribution(self.index, self.emitted), stream=name)
        self.emitted += 1


class Consumer(Bolt):
    outputs = ["stream", "task", "source", "values"]

    def initialize(self, config, context):
        self.task = context.get_task_id()

    def process(self, tup):
        self.emit([tup.stream, self.task, tup.task, tup.values])


def expected_round(kind: str, op, parallelism: int, round_id: int) -> list:
    present = [i for i in range(parallelism)
               if round_id < ROUNDS - (i == parallelism - 1 and parallelism > 1)]
    rows = [contribution(i, round_id) for i in present]
    if kind in ("gather", "allgather"):
        by_index = dict(zip(present, rows, strict=True))
        return [[by_index[i][f] if i in by_index else None for i in range(parallelism)]
                for f in range(3)]
    acc = rows[0]
    for row in rows[1:]:
        acc = [op(a, b) for a, b in zip(acc, row, strict=True)]
    return acc


def same(a, b) -> bool:
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if a is None or b is None:
        return a is None and b is None
    return np.allclose(a, b, rtol=1e-12)


@pytest.mark.parametrize(("parallelism", "containers", "direct"),
                         [(p, c, True) for p in (1, 2, 3, 5, 8) for c in (1, 2)]
                         + [(3, 2, False), (8, 2, False)])
def test_every_collective_and_algorithm(parallelism, containers, direct):
    """Straight from task to task (transport/direct.py), or through the stream managers (the
    path between hosts, here between containers)."""
    builder = TopologyBuilder("collectives")
    producer = builder.add_spout("producer", Producer, par=parallelism)
    builder.add_bolt("consumer", Consumer, par=2,
                     inputs={producer[name]: grouping for name, grouping in streams().items()})
    builder.set_config({"topology.stmgrs": containers, "parallelism": parallelism,
                        "heronpy.collective.direct": direct})
    result = heronpy.local.run(builder, timeout=120)
    consumers = result.plan.component_tasks["consumer"]
    producers = result.plan.component_tasks["producer"]
    got: dict[tuple[str, int], list] = {}
    for stream, task, source, values in result.outputs("consumer"):
        got.setdefault((stream, task), []).append((source, values))
    for name in streams():
        kind, variant = name.split("_", 1)
        op = OPS.get(variant, np.add)
        receivers = consumers if kind in ("broadcast", "allreduce", "allgather") else consumers[:1]
        assert {t for (s, t) in got if s == name} == set(receivers), name
        for task in receivers:
            records = got[(name, task)]
            if kind == "broadcast":  # every tuple of every producer, in each producer's order
                for index, source in enumerate(producers):
                    mine = [v for s, v in records if s == source]
                    rounds = ROUNDS - (index == parallelism - 1 and parallelism > 1)
                    assert same(mine, [contribution(index, r) for r in range(rounds)]), name
                continue
            assert [s for s, _ in records] == [-1] * ROUNDS, name
            for round_id, (_, values) in enumerate(records):  # one tuple per round, in order
                assert same(values, expected_round(kind, op, parallelism, round_id)), \
                    (name, task, round_id)


# -- build-time checks, and the ALL grouping as a broadcast ---------------------------------
class Worker(Bolt):
    outputs = ["value"]

    def process(self, tup):
        pass


class WindowWorker(WindowedBolt):
    outputs = ["value"]
    length = Count(2)

    def process_window(self, window, tuples):
        pass


def build(grouping, self_loop=False, config=None, bolt=Worker):
    builder = TopologyBuilder("checks")
    producer = builder.add_spout("producer", Producer, par=2)
    inputs = {producer["reduce_flat"]: Grouping.SHUFFLE}
    if self_loop:
        inputs[GlobalStreamId("worker", "default")] = grouping
    else:
        inputs = {producer["reduce_flat"]: grouping}
    builder.add_bolt("worker", bolt, par=2, inputs=inputs)
    builder.set_config(config or {})
    return PhysicalPlan.pack(builder.build())


def test_a_component_may_loop_on_its_own_allreduce_but_not_on_a_reduce():
    plan = build(Grouping.allreduce("sum"), self_loop=True)
    (graph,) = plan.collectives
    assert graph.is_self_loop and graph.delivering_tasks() == graph.producers
    with pytest.raises(InvalidTopologyError, match=r"'worker' is part of a cycle"):
        build(Grouping.reduce("sum"), self_loop=True)


def test_bad_collectives_fail_at_build_time():
    with pytest.raises(ValueError, match=r"op must be one of"):
        Grouping.reduce("mean")
    with pytest.raises(ValueError, match=r"algorithm must be one of"):
        Grouping.broadcast("butterfly")
    with pytest.raises(ValueError, match=r"degree must be an integer >= 2"):
        Grouping.gather(degree=1)
    with pytest.raises(InvalidTopologyError, match=r"topology 'checks'.*algorithm must be"):
        build(Grouping.ALL, config={"heronpy.collective.algorithm": "tree"})
    with pytest.raises(InvalidTopologyError, match=r"'worker'.*not supported with EFFECTIVELY"):
        build(Grouping.gather(), config={"topology.reliability.mode": "EFFECTIVELY_ONCE"})
    with pytest.raises(InvalidTopologyError, match=r"'worker': a windowed bolt cannot"):
        build(Grouping.gather(), bolt=WindowWorker)


def test_all_grouping_becomes_a_broadcast_when_an_algorithm_is_set():
    assert build(Grouping.ALL).collectives == []
    (graph,) = build(Grouping.ALL, config={"heronpy.collective.algorithm": "ring"}).collectives
    assert (graph.kind, graph.algorithm) == ("broadcast", "ring")
    assert graph.depth() == 2  # producer -> first consumer -> second consumer


def test_numpy_arrays_cross_a_hop_as_raw_buffers():
    """1 MiB: the sender's part is the array itself, the receiver's array a view of what
    arrived (at most the transport's own copy on each side)."""
    array = np.arange(1 << 17, dtype=np.float64)  # 1 MiB
    payload, buffers = codec.encode_with_buffers([3, [array, 2.5]])
    assert len(payload) < 100 and len(buffers) == 1 and buffers[0] is array
    arrived = bytearray(buffers[0].tobytes())  # what the receiving socket holds
    _, (view, scalar) = codec.decode_with_buffers(payload, [memoryview(arrived)])
    assert np.shares_memory(view, np.frombuffer(arrived)) and scalar == 2.5
    np.testing.assert_array_equal(view, array)


class FastArrays(Spout):
    """Unpaced: many rounds of small arrays, enough to keep the queues full."""

    outputs = ["array"]

    def initialize(self, config, context):
        self.left = PRESSURE_ROUNDS

    def next_tuple(self):
        if not self.left:
            raise StopIteration
        self.left -= 1
        self.emit([np.ones(128)])


class Rounds(Bolt):
    outputs = ["rounds", "all_right"]

    def initialize(self, config, context):
        self.rounds = 0
        self.all_right = True

    def process(self, tup):
        self.rounds += 1
        self.all_right &= bool((tup.values[0] == 4.0).all())

    def end_of_stream(self):
        self.emit([self.rounds, self.all_right])


PRESSURE_ROUNDS = 20_000


def test_spout_producers_under_backpressure_do_not_stall_a_tree():
    """Spouts stop being read while any container is congested, so they must not relay other
    tasks' partial results (this stalled for good when they did): their inner nodes are
    hosted by consumer tasks instead."""
    builder = TopologyBuilder("pressure")
    spouts = builder.add_spout("spouts", FastArrays, par=4)
    builder.add_bolt("sink", Rounds, par=1,
                     inputs={spouts: Grouping.reduce("sum", "binary_tree")})
    builder.set_config({"topology.stmgrs": 2})
    plan = PhysicalPlan.pack(builder.build())
    (graph,) = plan.collectives
    assert {n.host for n in graph.nodes if n.leaf is None} <= set(graph.consumers)
    result = heronpy.local.run(builder, timeout=120)
    assert result.outputs("sink") == [(PRESSURE_ROUNDS, True)]


class BigArrays(Spout):
    """ROUNDS rounds of a 512 KiB array per task, on a broadcast and an allreduce stream."""

    outputs = [Stream(["array"], name="broadcast"), Stream(["array"], name="allreduce")]

    def initialize(self, config, context):
        self.index = context.get_task_id() - min(context.get_component_tasks("producer"))
        self.emitted = 0

    def next_tuple(self):
        if self.emitted == ROUNDS:
            raise StopIteration
        array = np.arange(1 << 16, dtype=np.float64) * (self.index + 1) + self.emitted
        self.emit([array], stream="broadcast")
        self.emit([array], stream="allreduce")
        self.emitted += 1


BIG_ARRAY_PRODUCERS = 3


def run_big_arrays(config: dict) -> tuple[int, int]:
    """BigArrays from ``BIG_ARRAY_PRODUCERS`` producers over 2 containers to 2 consumers, by a
    binary-tree broadcast and a flat allreduce, under ``config``: checks every result and that
    nothing stays in /dev/shm; returns the frames the tasks sent through shared memory and
    directly."""
    builder = TopologyBuilder("shared")
    producer = builder.add_spout("producer", BigArrays, par=BIG_ARRAY_PRODUCERS)
    builder.add_bolt("consumer", Consumer, par=2,
                     inputs={producer["broadcast"]: Grouping.broadcast("binary_tree"),
                             producer["allreduce"]: Grouping.allreduce("sum", "flat")})
    builder.set_config({"topology.stmgrs": 2, **config})
    before = set(os.listdir("/dev/shm"))
    result = heronpy.local.run(builder, timeout=120)
    assert set(os.listdir("/dev/shm")) <= before
    base = np.arange(1 << 16, dtype=np.float64)
    got: dict[tuple[str, int], list] = {}
    for stream, task, source, values in result.outputs("consumer"):
        got.setdefault((stream, task), []).append((source, values[0]))
    producers = result.plan.component_tasks["producer"]
    for task in result.plan.component_tasks["consumer"]:
        sums = [array for _, array in got[("allreduce", task)]]
        total = sum(i + 1 for i in range(BIG_ARRAY_PRODUCERS))
        assert same(sums, [base * total + BIG_ARRAY_PRODUCERS * r for r in range(ROUNDS)])
        for index, source in enumerate(producers):
            mine = [array for s, array in got[("broadcast", task)] if s == source]
            assert same(mine, [base * (index + 1) + r for r in range(ROUNDS)])
    tasks = [m for c in result.metrics.values() for m in c["tasks"].values()]
    return sum(m["shared_frames"] for m in tasks), sum(m["direct_frames"] for m in tasks)


@pytest.mark.parametrize("direct", [True, False])
@pytest.mark.parametrize("threshold", [32 * 1024, 0])
def test_large_arrays_between_tasks_of_one_host(threshold, direct):
    """Above ``heronpy.shm.threshold.bytes`` arrays cross by /dev/shm segments (within and
    across containers, all on this host); 0 turns that off. With ``heronpy.collective.direct``
    frames go from task to task (inline arrays in chunked datagrams), else through the stream
    managers. Results are the same; nothing stays in /dev/shm."""
    shared, sent_direct = run_big_arrays({"heronpy.shm.threshold.bytes": threshold,
                                          "heronpy.collective.direct": direct})
    if threshold:
        assert shared >= ROUNDS * BIG_ARRAY_PRODUCERS  # at least every producer's allreduce leaf
    else:
        assert shared == 0
    assert sent_direct >= ROUNDS * BIG_ARRAY_PRODUCERS if direct else sent_direct == 0


def test_each_container_as_a_host_of_its_own():
    """``heronpy.host.per.container``: shared memory and direct frames only between tasks of
    one container; frames between containers go through the stream managers, as between the
    nodes of a cluster. Same results, with fewer frames on the host-local paths."""
    one_host = run_big_arrays({})
    shared, sent_direct = run_big_arrays({"heronpy.host.per.container": True})
    assert 0 < shared < one_host[0] and 0 < sent_direct < one_host[1]
