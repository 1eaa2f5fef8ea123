"""Each grouping, across two containers, routes tuples the way Heron defines it."""

from collections import Counter, defaultdict

import pytest
from helpers import NumberSpout, RecordBolt

import heronpy.local
from heronpy.api.bolt.bolt import Bolt
from heronpy.api.custom_grouping import ICustomGrouping
from heronpy.api.spout.spout import Spout
from heronpy.api.stream import Grouping, Stream
from heronpy.api.topology import TopologyBuilder
from heronpy.instance.routing import fields_index
from heronpy.topology.physical import PhysicalPlan

TIMEOUT = 60
NUMBERS = 2000
CONSUMERS = 4


def run_grouping(grouping, *, numbers=NUMBERS, spouts=2, consumers=CONSUMERS,
                 spout_cls=NumberSpout):
    """numbers -> sink (``grouping``) over 2 containers; returns (sink task ids, records)."""
    builder = TopologyBuilder("grouping")
    source = builder.add_spout("numbers", spout_cls, par=spouts)
    builder.add_bolt("sink", RecordBolt, par=consumers, inputs={source: grouping})
    builder.set_config({"topology.stmgrs": 2, "numbers": numbers})
    result = heronpy.local.run(builder, timeout=TIMEOUT)
    sink_tasks = result.plan.component_tasks["sink"]
    assert result.plan.num_containers == 2
    # the sink's tasks really are spread over both containers
    assert {result.plan.tasks[t].container for t in sink_tasks} == {0, 1}
    records = result.outputs("sink")
    assert result.metrics["sink"]["executed"] == len(records)
    assert result.metrics["numbers"]["emitted"] == numbers
    return sink_tasks, records


def values_by_task(records):
    received = defaultdict(list)
    for task, _source, _stream, n in records:
        received[task].append(n)
    return received


def test_shuffle_spreads_evenly_and_loses_nothing():
    tasks, records = run_grouping(Grouping.SHUFFLE)
    received = values_by_task(records)
    assert sorted(n for _, _, _, n in records) == list(range(NUMBERS))
    assert set(received) == set(tasks)
    mean = NUMBERS / CONSUMERS
    for task in tasks:
        assert abs(len(received[task]) - mean) <= 0.05 * mean, {t: len(v) for t, v in
                                                                 received.items()}


def test_local_or_shuffle_behaves_as_shuffle():
    tasks, records = run_grouping(Grouping.LOCAL_OR_SHUFFLE, numbers=400)
    assert sorted(n for _, _, _, n in records) == list(range(400))
    assert set(values_by_task(records)) == set(tasks)


class KeySpout(Spout):
    """Emits (key, n): string keys that repeat, so the same key comes from both spout tasks."""

    outputs = ["key", "n"]

    def initialize(self, config, context):
        tasks = context.get_component_tasks(context.get_component_id())
        start = tasks.index(context.get_task_id())
        self.numbers = iter(range(start, int(config["numbers"]), len(tasks)))

    def next_tuple(self):
        n = next(self.numbers)
        self.emit([f"key-{n % 37}", n])


def test_fields_sends_each_key_to_one_deterministic_task():
    tasks, records = run_grouping(Grouping.fields("key"), spout_cls=KeySpout)
    assert len(records) == NUMBERS
    task_of_key = defaultdict(set)
    for task, _source, _stream, key in records:  # RecordBolt records the first field: key
        task_of_key[key].add(task)
    assert Counter(key for _, _, _, key in records) == Counter(
        f"key-{n % 37}" for n in range(NUMBERS))
    assert len(task_of_key) == 37
    for key, receivers in task_of_key.items():
        assert receivers == {tasks[fields_index(key, CONSUMERS)]}, key
    # 37 keys over 4 tasks: every task has some
    assert len({t for t, _, _, _ in records}) == CONSUMERS


def test_fields_grouping_on_two_fields():
    class PairSpout(Spout):  # defined in the test: shipped to the tasks by value
        outputs = ["a", "b", "n"]

        def initialize(self, config, context):
            self.numbers = iter(range(int(config["numbers"])))

        def next_tuple(self):
            n = next(self.numbers)
            self.emit([n % 3, f"b{n % 5}", n])

    class PairBolt(Bolt):
        outputs = ["task", "a", "b"]

        def initialize(self, config, context):
            self.task_id = context.get_task_id()

        def process(self, tup):
            self.emit([self.task_id, tup.values[0], tup.values[1]])

    builder = TopologyBuilder("two_fields")
    source = builder.add_spout("pairs", PairSpout, par=1)
    builder.add_bolt("sink", PairBolt, par=3, inputs={source: Grouping.fields("b", "a")})
    result = heronpy.local.run(builder, config={"topology.stmgrs": 2, "numbers": 300},
                               timeout=TIMEOUT)
    tasks = result.plan.component_tasks["sink"]
    records = result.outputs("sink")
    assert len(records) == 300
    for task, a, b in records:
        # the key is the grouped fields' values in the order the grouping names them
        assert task == tasks[fields_index([b, a], 3)], (a, b)


def test_all_delivers_every_tuple_to_every_task():
    tasks, records = run_grouping(Grouping.ALL, numbers=500)
    received = values_by_task(records)
    assert set(received) == set(tasks)
    for task in tasks:
        assert sorted(received[task]) == list(range(500)), task


@pytest.mark.parametrize("grouping", [Grouping.LOWEST, Grouping.GLOBAL], ids=["lowest", "global"])
def test_lowest_and_global_go_to_the_lowest_task_only(grouping):
    tasks, records = run_grouping(grouping, numbers=500)
    received = values_by_task(records)
    assert set(received) == {min(tasks)}
    assert sorted(received[min(tasks)]) == list(range(500))


def test_none_behaves_as_shuffle():
    tasks, records = run_grouping(Grouping.NONE, numbers=800)
    received = values_by_task(records)
    assert sorted(n for _, _, _, n in records) == list(range(800))
    assert set(received) == set(tasks)


class DirectSpout(Spout):
    """Emits (n, target): the target task, chosen from the consumer's task ids, is passed as
    ``direct_task``."""

    outputs = ["n", "target"]

    def initialize(self, config, context):
        self.targets = context.get_component_tasks("sink")
        self.numbers = iter(range(int(config["numbers"])))

    def next_tuple(self):
        n = next(self.numbers)
        target = self.targets[(n * 7) % len(self.targets)]
        self.emit([n, target], direct_task=target)


class DirectSink(Bolt):
    outputs = ["task", "n", "target"]

    def initialize(self, config, context):
        self.task_id = context.get_task_id()

    def process(self, tup):
        self.emit([self.task_id, *tup.values])


def direct_topology(spout_cls, numbers=600):
    builder = TopologyBuilder("direct")
    source = builder.add_spout("numbers", spout_cls, par=1)
    builder.add_bolt("sink", DirectSink, par=3, inputs={source: Grouping.DIRECT})
    builder.set_config({"topology.stmgrs": 2, "numbers": numbers})
    return builder


def test_direct_lands_each_tuple_on_the_chosen_task():
    result = heronpy.local.run(direct_topology(DirectSpout), timeout=TIMEOUT)
    tasks = result.plan.component_tasks["sink"]
    records = result.outputs("sink")
    assert sorted(n for _, n, _ in records) == list(range(600))
    for task, n, target in records:
        assert task == target, n
    assert {task for task, _, _ in records} == set(tasks)


def test_direct_without_direct_task_fails_the_topology():
    class CarelessSpout(Spout):
        outputs = ["n", "target"]

        def initialize(self, config, context):
            self.n = 0

        def next_tuple(self):
            self.n += 1
            self.emit([self.n, None])  # no direct_task

    with pytest.raises(heronpy.local.TopologyFailed) as failure:
        heronpy.local.run(direct_topology(CarelessSpout), timeout=TIMEOUT)
    assert failure.value.component == "numbers"
    assert "DIRECT" in str(failure.value)
    assert "direct_task" in str(failure.value)


def test_direct_to_a_task_of_another_component_fails_the_topology():
    class WrongTargetSpout(Spout):
        outputs = ["n", "target"]

        def initialize(self, config, context):
            self.own_task = context.get_task_id()

        def next_tuple(self):
            self.emit([0, self.own_task], direct_task=self.own_task)

    with pytest.raises(heronpy.local.TopologyFailed) as failure:
        heronpy.local.run(direct_topology(WrongTargetSpout), timeout=TIMEOUT)
    assert failure.value.component == "numbers"
    assert "direct_task 1 is not a task of 'sink'" in str(failure.value)


class EvenToFirstOddToAll(ICustomGrouping):
    """Even values go to the first consumer task, odd ones to every consumer task."""

    def prepare(self, context, component, stream, target_tasks):
        self.targets = list(target_tasks)

    def choose_tasks(self, values):
        return [self.targets[0]] if values[0] % 2 == 0 else self.targets


@pytest.mark.parametrize("how", ["instance", "class path"])
def test_custom_grouping(how):
    grouper = (EvenToFirstOddToAll() if how == "instance"
               else f"{EvenToFirstOddToAll.__module__}.{EvenToFirstOddToAll.__qualname__}")
    tasks, records = run_grouping(Grouping.custom(grouper), numbers=400, consumers=3)
    received = values_by_task(records)
    assert sorted(received[tasks[0]]) == list(range(400))
    for task in tasks[1:]:
        assert sorted(received[task]) == list(range(1, 400, 2)), task


def test_custom_grouping_defined_in_the_test_and_its_prepare_arguments():
    class ByModulo(ICustomGrouping):  # shipped to the emitting task by value
        def prepare(self, context, component, stream, target_tasks):
            # Heron passes the emitting component's name and the consumer's task ids
            assert component == context.get_component_id() == "numbers", component
            assert stream == "default", stream
            assert list(target_tasks) == context.get_component_tasks("sink"), target_tasks
            self.targets = list(target_tasks)

        def choose_tasks(self, values):
            return [self.targets[values[0] % len(self.targets)]]

    tasks, records = run_grouping(Grouping.custom(ByModulo()), numbers=300, consumers=3)
    assert len(records) == 300
    for task, _source, _stream, n in records:
        assert task == tasks[n % 3]


def test_custom_grouping_choosing_a_foreign_task_fails_the_topology():
    class Rogue(ICustomGrouping):
        def prepare(self, context, component, stream, target_tasks):
            pass

        def choose_tasks(self, values):
            return [999]

    with pytest.raises(heronpy.local.TopologyFailed) as failure:
        run_grouping(Grouping.custom(Rogue()), numbers=10)
    assert "Rogue chose [999]" in str(failure.value)
    assert failure.value.component == "numbers"


class ParitySpout(Spout):
    """Even numbers on the default stream, odd ones on stream "odd"."""

    outputs = [Stream(["n"]), Stream(["n"], name="odd")]

    def initialize(self, config, context):
        # the heronpy extension get_task_index(): this task's position among its component's
        index, tasks = context.get_task_index(), context.get_component_tasks("parity")
        self.numbers = iter(range(index, int(config["numbers"]), len(tasks)))

    def next_tuple(self):
        n = next(self.numbers)
        if n % 2:
            self.emit([n], stream="odd")
        else:
            self.emit([n])


def test_multiple_output_streams():
    builder = TopologyBuilder("streams")
    source = builder.add_spout("parity", ParitySpout, par=2)
    builder.add_bolt("evens", RecordBolt, par=2, inputs={source: Grouping.SHUFFLE})
    builder.add_bolt("odds", RecordBolt, par=2, inputs={source["odd"]: Grouping.SHUFFLE})
    builder.add_bolt("both", RecordBolt, par=1,
                     inputs={source: Grouping.ALL, source["odd"]: Grouping.fields("n")})
    result = heronpy.local.run(builder, config={"topology.stmgrs": 2, "numbers": 400},
                               timeout=TIMEOUT)
    evens, odds, both = (result.outputs(c) for c in ("evens", "odds", "both"))
    assert sorted(n for _, _, _, n in evens) == list(range(0, 400, 2))
    assert {stream for _, _, stream, _ in evens} == {"default"}
    assert sorted(n for _, _, _, n in odds) == list(range(1, 400, 2))
    assert {stream for _, _, stream, _ in odds} == {"odd"}
    assert sorted(n for _, _, _, n in both) == list(range(400))
    for _, _, stream, n in both:
        assert stream == ("odd" if n % 2 else "default")
    spout_tasks = set(result.plan.component_tasks["parity"])
    assert {source for _, source, _, _ in both} <= spout_tasks


def test_unsubscribed_extra_stream_is_collected_separately():
    builder = TopologyBuilder("extra_stream")
    source = builder.add_spout("parity", ParitySpout, par=1)
    builder.add_bolt("evens", RecordBolt, par=1, inputs=[source])  # a list: shuffle
    result = heronpy.local.run(builder, config={"numbers": 100}, timeout=TIMEOUT)
    assert [n for (n,) in result.outputs("parity", "odd")] == list(range(1, 100, 2))
    assert sorted(n for _, _, _, n in result.outputs("evens")) == list(range(0, 100, 2))
    with pytest.raises(ValueError, match="consumed"):
        result.outputs("parity")  # the default stream is subscribed: not collected
    with pytest.raises(KeyError, match="no stream 'nope'"):
        result.outputs("parity", "nope")


class TaskIdsSpout(Spout):
    """Emits each number to "fields" and "all" subscribers and records, on the unsubscribed
    stream "routes", the task ids ``emit(..., need_task_ids=True)`` returned."""

    outputs = [Stream(["n"]), Stream(["n", "tasks", "plain"], name="routes")]

    def initialize(self, config, context):
        self.numbers = iter(range(int(config["numbers"])))

    def next_tuple(self):
        n = next(self.numbers)
        tasks = self.emit([n], need_task_ids=True)
        plain = self.emit([n, [], None], stream="routes", need_task_ids=False)
        unrouted = self.emit([n, tasks, plain], stream="routes", need_task_ids=True)
        assert unrouted == []  # nothing subscribes to "routes"


def test_need_task_ids_returns_the_receiving_tasks():
    builder = TopologyBuilder("task_ids")
    source = builder.add_spout("numbers", TaskIdsSpout, par=1)
    builder.add_bolt("keyed", RecordBolt, par=3, inputs={source: Grouping.fields("n")})
    builder.add_bolt("everyone", RecordBolt, par=2, inputs={source: Grouping.ALL})
    result = heronpy.local.run(builder, config={"topology.stmgrs": 2, "numbers": 200},
                               timeout=TIMEOUT)
    received = defaultdict(set)
    for component in ("keyed", "everyone"):
        for task, _, _, n in result.outputs(component):
            received[n].add(task)
    routes = [r for r in result.outputs("numbers", "routes") if r[1]]
    plain = [r for r in result.outputs("numbers", "routes") if not r[1]]
    assert len(routes) == len(plain) == 200
    assert all(r[2] is None for r in routes)  # emit returns None without need_task_ids
    keyed = result.plan.component_tasks["keyed"]
    everyone = result.plan.component_tasks["everyone"]
    for n, tasks, _ in routes:
        assert Counter(tasks) == Counter([keyed[fields_index(n, 3)], *everyone]), n
        assert set(tasks) == received[n], n


def test_packing_of_the_grouping_topology_matches_round_robin():
    builder = TopologyBuilder("grouping")
    source = builder.add_spout("numbers", NumberSpout, par=2)
    builder.add_bolt("sink", RecordBolt, par=CONSUMERS, inputs={source: Grouping.SHUFFLE})
    builder.set_config({"topology.stmgrs": 2})
    plan = PhysicalPlan.pack(builder.build())
    assert plan.component_tasks == {"numbers": [1, 2], "sink": [3, 4, 5, 6]}
    assert [plan.tasks[t].container for t in range(1, 7)] == [0, 1, 0, 1, 0, 1]
