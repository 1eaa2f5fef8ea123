"""The Streamlet API without running anything: what components, streams, groupings and
parallelism a chain of operations compiles to, and the errors it refuses with."""

import doctest
import importlib
import pkgutil
from datetime import timedelta
from operator import add

import pytest

import heronpy.streamlet
from heronpy.api import api_constants
from heronpy.api import topology as api_topology
from heronpy.api.stream import Grouping
from heronpy.api.tuple import HeronTuple
from heronpy.runtime.loader import to_plan
from heronpy.streamlet import (
    Builder,
    Config,
    Count,
    Duration,
    Generator,
    Resources,
    Runner,
    WindowConfig,
)
from heronpy.streamlet.impl.component import FUNCTION, OUTLETS, WINDOW
from heronpy.streamlet.impl.elementwise import FilterBolt, ForwardBolt
from heronpy.streamlet.impl.join import JoinBolt, JoinType
from heronpy.streamlet.impl.reduce import ReduceByKeyAndWindowBolt, ReduceByWindowBolt
from heronpy.streamlet.impl.repartition import RepartitionGrouping
from heronpy.streamlet.impl.sources import GeneratorSpout, IterableSpout
from heronpy.topology.logical import InvalidTopologyError

COUNT_3 = WindowConfig.create_tumbling_window(Count(3))


def _inputs(plan, name):
    return [(s.component, s.stream, s.grouping) for s in plan.components[name].inputs]


def test_a_chain_compiles_to_one_component_per_streamlet_with_inherited_partitions():
    builder = Builder()
    source = builder.new_source(["a b", "c"]).set_num_partitions(2)
    source.flat_map(str.split).filter(str.isalpha).map(str.upper).set_num_partitions(3).log()

    plan = builder.build_plan("chain")

    assert [(c.name, c.cls.__name__, c.parallelism) for c in plan.components.values()] == [
        ("source-1", "IterableSpout", 2), ("flat_map-1", "FlatMapBolt", 2),
        ("filter-1", "FilterBolt", 2), ("map-1", "MapBolt", 3), ("log-1", "LogBolt", 3)]
    assert _inputs(plan, "filter-1") == [("flat_map-1", "default", Grouping.SHUFFLE)]
    assert plan.components["map-1"].outputs == {"default": ("element",)}
    assert plan.components["log-1"].outputs == {}
    assert plan.components["filter-1"].config[FUNCTION] is str.isalpha


def test_default_names_count_each_operation_and_set_name_overrides():
    builder = Builder()
    numbers = builder.new_source(range(3))
    first, second = numbers.map(abs), numbers.map(abs).set_name("absolute")
    third = numbers.map(abs)

    assert (numbers.get_name(), first.get_name(), second.get_name(), third.get_name()) == (
        "source-1", "map-1", "absolute", "map-3")
    assert list(builder.build_plan().components) == ["source-1", "map-1", "absolute", "map-3"]


def test_duplicate_names_fail_when_built():
    builder = Builder()
    numbers = builder.new_source(range(3))
    numbers.map(abs).set_name("twice")
    numbers.filter(bool).set_name("twice")
    with pytest.raises(InvalidTopologyError, match="twice"):
        builder.build_plan()


def test_sources_are_generators_iterables_or_functions():
    class Once(Generator):
        def get(self):
            raise StopIteration

    builder = Builder()
    builder.new_source(Once())
    builder.new_source(Once)
    builder.new_source(lambda: iter(range(3)))
    plan = builder.build_plan()
    assert [c.cls for c in plan.components.values()] == [GeneratorSpout, GeneratorSpout,
                                                         IterableSpout]
    assert isinstance(plan.components["source-2"].config[FUNCTION], Once)
    with pytest.raises(TypeError, match="string"):
        builder.new_source("abc")
    with pytest.raises(TypeError, match="iterator"):
        builder.new_source(iter([1, 2]))
    with pytest.raises(TypeError, match="Generator, an iterable"):
        builder.new_source(42)


def test_union_subscribes_to_both_parents_with_the_first_ones_partitions():
    builder = Builder()
    left = builder.new_source([1]).set_num_partitions(2)
    right = builder.new_source([2])
    union = left.union(right)

    plan = builder.build_plan()
    assert plan.components["union-1"].cls is ForwardBolt
    assert plan.components["union-1"].parallelism == 2
    assert _inputs(plan, "union-1") == [("source-1", "default", Grouping.SHUFFLE),
                                        ("source-2", "default", Grouping.SHUFFLE)]
    assert union.get_num_partitions() == 2
    with pytest.raises(ValueError, match="itself"):
        left.union(left)
    with pytest.raises(ValueError, match="different builders"):
        left.union(Builder().new_source([3]))


def test_clones_are_components_reading_the_same_producer():
    builder = Builder()
    words = builder.new_source(["a"]).map(str.upper).set_num_partitions(2)
    clones = words.clone(3)

    plan = builder.build_plan()
    assert [c.get_name() for c in clones] == ["clone-1", "clone-2", "clone-3"]
    for clone in clones:
        component = plan.components[clone.get_name()]
        assert (component.cls, component.parallelism) == (ForwardBolt, 2)
        assert _inputs(plan, clone.get_name()) == [("map-1", "default", Grouping.SHUFFLE)]
    assert len(plan.consumers("map-1", "default")) == 3
    with pytest.raises(ValueError):
        words.clone(0)


def test_repartition_sets_partitions_and_routes_with_the_custom_function():
    builder = Builder()
    numbers = builder.new_source(range(10))
    spread = numbers.repartition(4)
    routed = numbers.repartition(3, lambda n, k: n % k)

    plan = builder.build_plan()
    assert (spread.get_num_partitions(), routed.get_num_partitions()) == (4, 3)
    assert _inputs(plan, "repartition-1") == [("source-1", "default", Grouping.SHUFFLE)]
    (sub,) = plan.components["repartition-2"].inputs
    assert sub.grouping.kind == "custom"
    assert isinstance(sub.grouping.custom, RepartitionGrouping)
    sub.grouping.custom.prepare(None, "source-1", "default", [7, 8, 9])
    assert [sub.grouping.custom.choose_tasks([n]) for n in range(4)] == [[7], [8], [9], [7]]


def test_repartition_indices_wrap_and_repeat_once():
    grouping = RepartitionGrouping(lambda element, n: [element, element + n, -1])
    grouping.prepare(None, "numbers", "default", [10, 11])
    assert grouping.choose_tasks([0]) == [10, 11]


def test_reduce_by_key_reads_a_keyed_stream_of_its_parent_grouped_by_key():
    builder = Builder()
    pairs = builder.new_source([("a", 1)]).map(tuple).set_num_partitions(2)
    reduced = pairs.reduce_by_key_and_window(COUNT_3, add)
    pairs.filter(bool)  # the parent's default stream still feeds its other children

    plan = builder.build_plan()
    component = plan.components["reduce_by_key_and_window-1"]
    assert (component.cls, component.parallelism) == (ReduceByKeyAndWindowBolt, 2)
    assert plan.components["map-1"].outputs == {
        "default": ("element",), "reduce_by_key_and_window-1": ("key", "element")}
    assert _inputs(plan, reduced.get_name()) == [
        ("map-1", "reduce_by_key_and_window-1", Grouping.fields("key"))]
    (default, (stream, key)) = plan.components["map-1"].config[OUTLETS]
    assert default == ("default", None)
    assert (stream, key(("a", 1))) == ("reduce_by_key_and_window-1", "a")
    assert component.config[WINDOW] is COUNT_3
    assert _inputs(plan, "filter-1") == [("map-1", "default", Grouping.SHUFFLE)]


def test_elements_go_on_default_when_read_as_they_are_or_not_read_at_all():
    builder = Builder()
    source = builder.new_source([("a", 1)])
    source.map(tuple).reduce_by_key_and_window(COUNT_3, add).consume(print)
    source.log()
    source.filter(bool)

    plan = builder.build_plan()
    outputs = {name: c.outputs for name, c in plan.components.items()}
    assert outputs == {
        "source-1": {"default": ("element",)},
        "map-1": {"reduce_by_key_and_window-1": ("key", "element")},
        "reduce_by_key_and_window-1": {"default": ("element",)},
        "consume-1": {},
        "log-1": {},
        "filter-1": {"default": ("element",)}}  # read by nothing: collected by local.run


def test_the_keyed_stream_follows_set_name():
    builder = Builder()
    builder.new_source([("a", 1)]).reduce_by_key_and_window(COUNT_3, add).set_name("sums")
    plan = builder.build_plan()
    assert _inputs(plan, "sums") == [("source-1", "sums", Grouping.fields("key"))]


def test_reduce_by_key_and_window_takes_heron_forms():
    numbers = Builder().new_source(range(10))
    pairs = numbers.reduce_by_key_and_window(COUNT_3, add)
    extracted = numbers.reduce_by_key_and_window(lambda n: n % 2, str, COUNT_3, add)
    folded = numbers.reduce_by_key_and_window(lambda n: n % 2, COUNT_3, [], _append)

    assert pairs._function([("k", 1), ("k", 2)]) == 3
    assert extracted._function([1, 3]) == "13"
    assert folded._function([1, 3]) == [1, 3]
    assert folded._function([5]) == [5]  # the identity is copied, never shared
    for bad in [(COUNT_3,), (add, COUNT_3, add), (COUNT_3, add, add), (add, add)]:
        with pytest.raises(TypeError):
            numbers.reduce_by_key_and_window(*bad)


def test_reduce_by_window_runs_in_one_task_fed_by_global_grouping():
    builder = Builder()
    total = builder.new_source(range(10)).set_num_partitions(3).reduce_by_window(COUNT_3, add)

    plan = builder.build_plan()
    component = plan.components["reduce_by_window-1"]
    assert (component.cls, component.parallelism) == (ReduceByWindowBolt, 1)
    assert _inputs(plan, "reduce_by_window-1") == [("source-1", "default", Grouping.GLOBAL)]
    with pytest.raises(ValueError, match="1 partition"):
        total.set_num_partitions(2)
    with pytest.raises(TypeError, match="WindowConfig"):
        total.reduce_by_window(3, add)


@pytest.mark.parametrize(("method", "how"), [
    ("join", JoinType.INNER), ("outer_left_join", JoinType.OUTER_LEFT),
    ("outer_right_join", JoinType.OUTER_RIGHT), ("outer_join", JoinType.OUTER)])
def test_joins_read_a_left_and_a_right_keyed_stream(method, how):
    builder = Builder()
    left = builder.new_source([("a", 1)]).set_num_partitions(2)
    right = builder.new_source([{"id": "a"}])
    joined = getattr(left, method)(right, lambda e: e[0], lambda e: e["id"], COUNT_3, add)

    plan = builder.build_plan()
    name = f"{method}-1"
    assert joined.get_name() == name
    component = plan.components[name]
    assert (component.cls, component.parallelism) == (JoinBolt, 2)
    assert component.config[FUNCTION].how is how
    assert _inputs(plan, name) == [("source-1", f"{name}.left", Grouping.fields("key")),
                                   ("source-2", f"{name}.right", Grouping.fields("key"))]
    ((_, right_key),) = plan.components["source-2"].config[OUTLETS]
    assert right_key({"id": "a"}) == "a"


def test_a_streamlet_may_join_itself():
    builder = Builder()
    pairs = builder.new_source([("a", 1)])
    pairs.join(pairs, COUNT_3, add)
    plan = builder.build_plan()
    assert _inputs(plan, "join-1") == [("source-1", "join-1.left", Grouping.fields("key")),
                                       ("source-1", "join-1.right", Grouping.fields("key"))]
    assert [s for s, _ in plan.components["source-1"].config[OUTLETS]] == [
        "join-1.left", "join-1.right"]


def test_join_forms_are_checked():
    builder = Builder()
    left, right = builder.new_source([1]), builder.new_source([2])
    for bad in [(COUNT_3,), (abs, COUNT_3, add), (COUNT_3, add, add), (abs, abs, add)]:
        with pytest.raises(TypeError):
            left.join(right, *bad)
    with pytest.raises(TypeError, match="Streamlet"):
        left.outer_join([2], COUNT_3, add)


def test_window_sizes_accept_seconds_timedeltas_durations_and_counts():
    assert WindowConfig.create_tumbling_window(2).length == Duration(2)
    assert WindowConfig.create_tumbling_window(0.5).slide == Duration(0.5)
    sliding = WindowConfig.create_sliding_window(timedelta(minutes=1), timedelta(seconds=10))
    assert (sliding.length, sliding.slide) == (Duration(60), Duration(10))
    assert WindowConfig.create_sliding_window(Count(4), Count(2)).slide == Count(2)
    assert not WindowConfig.create_tumbling_window(5).spec().event_time  # processing time


def test_event_time_windows_read_the_extractor_and_lag():
    window = WindowConfig.create_sliding_window(10, 5, timestamp_extractor=lambda e: e[1],
                                                lag=timedelta(seconds=2))
    spec = window.spec()
    assert spec.event_time and spec.lag == Duration(2)
    assert spec.timestamp_fn(("a", 7)) == 7


@pytest.mark.parametrize(("make", "error"), [
    (lambda: WindowConfig.create_sliding_window(Count(3), 2), TypeError),
    (lambda: WindowConfig.create_tumbling_window(0), ValueError),
    (lambda: WindowConfig.create_tumbling_window(-1), ValueError),
    (lambda: WindowConfig.create_tumbling_window("10"), TypeError),
    (lambda: WindowConfig.create_tumbling_window(True), TypeError),
    (lambda: WindowConfig.create_tumbling_window(Count(3), timestamp_extractor=abs), ValueError),
    (lambda: WindowConfig.create_tumbling_window(10, lag=2), ValueError),
    (lambda: WindowConfig.create_tumbling_window(10, timestamp_extractor=5), TypeError),
])
def test_invalid_windows_fail_when_configured(make, error):
    with pytest.raises(error):
        make()


def test_operations_need_functions():
    numbers = Builder().new_source([1])
    for operation in ("map", "flat_map", "filter", "consume"):
        with pytest.raises(TypeError, match=operation):
            getattr(numbers, operation)(42)
    with pytest.raises(ValueError):
        numbers.set_num_partitions(0)
    with pytest.raises(ValueError):
        numbers.set_name("")


def test_building_twice_gives_the_same_plan():
    builder = Builder()
    builder.new_source([("a", 1)]).reduce_by_key_and_window(COUNT_3, add)
    first, second = builder.build_plan(), builder.build_plan()
    assert first.describe() == second.describe()


def test_the_loader_takes_a_builder():
    builder = Builder()
    builder.new_source([1]).map(abs)
    plan = to_plan(builder)
    assert list(plan.components) == ["source-1", "map-1"]


def test_config_sets_heron_keys():
    config = Config({"user": 1})
    config.set_delivery_semantics(Config.ATLEAST_ONCE)
    config.set_num_containers(2)
    config.set_container_resources(Resources().set_cpu(1.5).set_ram_in_mb(512))
    config.set_user_config("other", "x")
    assert config.api_config == {
        "user": 1, "other": "x", api_constants.TOPOLOGY_STMGRS: 2,
        api_constants.TOPOLOGY_RELIABILITY_MODE:
            api_constants.TopologyReliabilityMode.ATLEAST_ONCE,
        api_constants.TOPOLOGY_CONTAINER_CPU_REQUESTED: 1.5,
        api_constants.TOPOLOGY_CONTAINER_RAM_REQUESTED: 512 * 1024 * 1024}
    with pytest.raises(ValueError):
        config.set_delivery_semantics(7)
    with pytest.raises(TypeError):
        Config([("a", 1)])


def test_runner_inside_a_submission_hands_the_topology_over(monkeypatch):
    submitted = []
    monkeypatch.setattr(api_topology, "submit_hook", submitted.append)
    builder = Builder()
    builder.new_source([1]).map(abs)
    config = Config()
    config.set_num_containers(2)

    assert Runner().run("handed_over", config, builder) is None
    (plan,) = submitted
    assert (plan.name, plan.num_containers) == ("handed_over", 2)
    assert list(plan.components) == ["source-1", "map-1"]


def test_runner_checks_its_arguments():
    with pytest.raises(TypeError, match="Config"):
        Runner().run("t", {}, Builder())
    with pytest.raises(TypeError, match="Builder"):
        Runner().run("t", Config(), object())


def _streamlet_modules():
    package = heronpy.streamlet
    names = [info.name for info in pkgutil.walk_packages(package.__path__, package.__name__ + ".")]
    return [package.__name__, *names]


@pytest.mark.parametrize("module", _streamlet_modules())
def test_doctests(module):
    result = doctest.testmod(importlib.import_module(module))
    assert result.failed == 0


def test_filter_keeps_what_the_predicate_accepts():
    # the bolts' logic in-process, through the delegate the task process would give them
    emitted, acked = [], []

    class Delegate:
        logger = None

        def emit(self, values, stream="default", anchors=None, *args):
            emitted.append((stream, values, [a.values[0] for a in anchors]))

        def ack(self, tup):
            acked.append(tup.values[0])

    bolt = FilterBolt(Delegate())
    bolt.initialize({FUNCTION: str.isalpha, OUTLETS: (("default", None), ("s", str.upper))},
                    None)
    for word in ("ab", "1", "c"):
        bolt.process(_tuple(word))
    assert emitted == [("default", ["ab"], ["ab"]), ("s", ["AB", "ab"], ["ab"]),
                       ("default", ["c"], ["c"]), ("s", ["C", "c"], ["c"])]
    assert acked == ["ab", "1", "c"]  # what it drops too


def _tuple(value):
    return HeronTuple(None, "source-1", "default", 1, [value], 0.0, None)


def _append(values, value):
    values.append(value)
    return values
