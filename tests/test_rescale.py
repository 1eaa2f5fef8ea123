"""The rescaled physical plan of ``heronpy update``, as pure data: task ids kept, new ids never
reused, removed tasks retired; and what cannot be rescaled refused, naming the component."""

import pytest

from heronpy.api.bolt.bolt import Bolt
from heronpy.api.spout.spout import Spout
from heronpy.api.state.stateful_component import StatefulComponent
from heronpy.api.stream import Grouping
from heronpy.api.topology import TopologyBuilder
from heronpy.topology.logical import InvalidTopologyError
from heronpy.topology.physical import PhysicalPlan
from heronpy.topology.rescale import rescale
from heronpy.windows import Count, WindowedBolt


class Source(Spout):
    outputs = ["word"]


class StatefulSource(StatefulComponent, Source):
    pass


class Relay(Bolt):
    outputs = ["word"]


class StatefulRelay(StatefulComponent, Relay):
    pass


class Windowed(WindowedBolt):
    outputs = ["n"]
    length = Count(10)


def plan(relay=Relay, count=Relay, source=Source, count_grouping=None) -> PhysicalPlan:
    builder = TopologyBuilder("t")
    words = builder.add_spout("words", source, par=1)
    relay_ = builder.add_bolt("relay", relay, par=2, inputs={words: Grouping.SHUFFLE})
    builder.add_bolt("count", count, par=2,
                     inputs={relay_: count_grouping or Grouping.fields("word")})
    builder.set_config({"topology.stmgrs": 2})
    return PhysicalPlan.pack(builder.build())


def test_tasks_that_stay_keep_their_ids_and_new_ones_get_unused_ids():
    before = plan()
    assert before.component_tasks == {"words": [1], "relay": [2, 3], "count": [4, 5]}
    grown = rescale(before, {"relay": 3, "count": 1})
    assert grown.component_tasks == {"words": [1], "relay": [2, 3, 6], "count": [4]}
    assert grown.retired == {5: "count"}
    assert grown.tasks[6].index == 2 and grown.tasks[6].container == 1
    assert grown.logical.components["relay"].parallelism == 3
    regrown = rescale(grown, {"count": 2})
    assert regrown.component_tasks["count"] == [4, 7]  # 5 is never used again
    assert regrown.retired == {5: "count"}
    assert before.component_tasks["count"] == [4, 5]  # the plan given is left alone


def test_a_keyed_stateful_bolt_can_be_rescaled():
    assert rescale(plan(count=StatefulRelay), {"count": 5}).component_tasks["count"] == [
        4, 5, 6, 7, 8]


@pytest.mark.parametrize(("change", "kwargs", "message"), [
    ({"counts": 2}, {}, "topology 't' has no component 'counts'"),
    ({"count": 0}, {}, "component 'count': parallelism must be an integer >= 1, given 0"),
    ({"count": "2"}, {}, "component 'count': parallelism must be an integer >= 1"),
    ({"words": 2}, {"source": StatefulSource}, "component 'words': a stateful spout"),
    ({"relay": 3}, {"relay": StatefulRelay}, "component 'relay': its state can only be split by "
                                             "key, and not all of its inputs are fields-grouped"),
    ({"count": 3}, {"count": Windowed}, "component 'count': a windowed bolt"),
    ({"relay": 3}, {"count": Windowed}, "component 'count': a windowed bolt"),
    ({"count": 3}, {"count_grouping": Grouping.allreduce("sum")}, "collective groupings"),
])
def test_what_cannot_be_rescaled_is_refused_naming_the_component(change, kwargs, message):
    with pytest.raises(InvalidTopologyError, match=message):
        rescale(plan(**kwargs), change)


def test_an_unchanged_parallelism_is_no_change_even_for_a_stateful_spout():
    same = rescale(plan(source=StatefulSource), {"words": 1})
    assert same.component_tasks == plan().component_tasks and same.retired == {}
