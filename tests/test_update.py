"""heronpy update: a running topology is rescaled; the keyed state of its stateful bolts is
split again by key, so word counts stay exact across 2 -> 4 -> 3 tasks, in every reliability
mode. What cannot be rescaled is refused before anything stops."""

import collections
import time

import pytest
from helpers import wait_until

import heronpy.api.api_constants as constants
import heronpy.local
from heronpy.api.bolt.bolt import Bolt
from heronpy.api.spout.spout import Spout
from heronpy.api.state.stateful_component import StatefulComponent
from heronpy.api.stream import Grouping
from heronpy.api.topology import TopologyBuilder
from heronpy.instance.routing import fields_index
from heronpy.topology.logical import InvalidTopologyError

WORDS = [f"w{i * 7 % 300}" for i in range(24000)]
EXPECTED = collections.Counter(WORDS)


class WordSpout(StatefulComponent, Spout):
    """WORDS from its saved offset, ~5000 a second."""

    outputs = ["word"]

    def init_state(self, stateful_state):
        self.state = stateful_state

    def initialize(self, config, context):
        self.offset = self.state.get("offset", 0)

    def next_tuple(self):
        if self.offset >= len(WORDS):
            raise StopIteration
        self.emit([WORDS[self.offset]])
        self.offset += 1
        if self.offset % 100 == 0:
            time.sleep(0.02)

    def pre_save(self, checkpoint_id):
        self.state.put("offset", self.offset)


class Relay(Bolt):
    outputs = ["word"]

    def process(self, tup):
        self.emit(tup.values)


class Count(StatefulComponent, Bolt):
    """Counts in its State; at the end emits each word's count with its task index and the
    number of count tasks."""

    outputs = ["word", "count", "index", "tasks"]

    def init_state(self, stateful_state):
        self.state = stateful_state

    def initialize(self, config, context):
        self.index = context.get_task_index()
        self.tasks = len(context.get_component_tasks("count"))

    def process(self, tup):
        word = tup.values[0]
        self.state.put(word, self.state.get(word, 0) + 1)

    def end_of_stream(self):
        for word, count in self.state.items():
            self.emit([word, count, self.index, self.tasks])


def topology(mode: str) -> TopologyBuilder:
    builder = TopologyBuilder("rescaled")
    words = builder.add_spout("words", WordSpout, par=1)
    relay = builder.add_bolt("relay", Relay, par=2, inputs={words: Grouping.SHUFFLE})
    builder.add_bolt("count", Count, par=2, inputs={relay: Grouping.fields("word")})
    builder.set_config({"topology.stmgrs": 2, constants.TOPOLOGY_RELIABILITY_MODE: mode,
                        constants.TOPOLOGY_STATEFUL_CHECKPOINT_INTERVAL_SECONDS: 0.5})
    return builder


def counted(run) -> int:
    return sum(t.get("executed", 0) for t in run.status()["tasks"].values()
               if t["component"] == "count")


def component_tasks(run, component: str) -> list[int]:
    return sorted(t for t, info in run.status()["tasks"].items()
                  if info["component"] == component)


@pytest.mark.parametrize("mode", [constants.TopologyReliabilityMode.ATMOST_ONCE,
                                  constants.TopologyReliabilityMode.EFFECTIVELY_ONCE])
def test_update_rescales_keyed_state_and_keeps_word_counts_exact(mode):
    with heronpy.local.start(topology(mode)) as run:
        wait_until(lambda: counted(run) > 2000, 30, "words to be counted")
        before = component_tasks(run, "count")
        run.update({"count": 4})
        after = component_tasks(run, "count")
        assert len(after) == 4 and after[:2] == before  # the first two keep their task ids
        wait_until(lambda: counted(run) > 2000, 30, "words to be counted after the update")
        run.update({"count": 3, "relay": 1})
        assert component_tasks(run, "count") == after[:3]
        assert len(component_tasks(run, "relay")) == 1
        result = run.result(timeout=90)
    rows = result.outputs("count")
    words = [word for word, *_ in rows]
    assert len(words) == len(set(words))  # each word in one task only
    assert {word: count for word, count, *_ in rows} == EXPECTED
    assert {tasks for *_, tasks in rows} == {3}
    assert all(index == fields_index(word, 3) for word, _, index, _ in rows)


def test_an_update_that_cannot_be_done_is_refused_and_the_topology_goes_on():
    with heronpy.local.start(topology(constants.TopologyReliabilityMode.ATMOST_ONCE)) as run:
        wait_until(lambda: counted(run) > 0, 30, "words to be counted")
        with pytest.raises(InvalidTopologyError, match="component 'words': a stateful spout"):
            run.update({"words": 2})
        with pytest.raises(InvalidTopologyError, match="no component 'counts'"):
            run.update({"counts": 2})
        result = run.result(timeout=90)
    assert {word: count for word, count, *_ in result.outputs("count")} == EXPECTED
