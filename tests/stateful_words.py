"""A stateful word count for tests that kill, restart or rescale a running topology: a spout
that keeps its offset in its State, a relay, and a count bolt keyed by word that emits its
counts at the end, with its task index and the number of count tasks."""

import collections
import time

import heronpy.api.api_constants as constants
from heronpy.api.bolt.bolt import Bolt
from heronpy.api.spout.spout import Spout
from heronpy.api.state.stateful_component import StatefulComponent
from heronpy.api.stream import Grouping
from heronpy.api.topology import TopologyBuilder

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
    """Passes words on; its first task takes ``relay.slow.secs`` a word, so that barriers
    reach a count task from the two relays far apart (without alignment, a checkpoint would
    catch tuples from after it)."""

    outputs = ["word"]

    def initialize(self, config, context):
        self.delay = config.get("relay.slow.secs", 0) if context.get_task_index() == 0 else 0

    def process(self, tup):
        if self.delay:
            time.sleep(self.delay)
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


def topology(mode: str, **config) -> TopologyBuilder:
    builder = TopologyBuilder("stateful_words")
    words = builder.add_spout("words", WordSpout, par=1)
    relay = builder.add_bolt("relay", Relay, par=2, inputs={words: Grouping.SHUFFLE})
    builder.add_bolt("count", Count, par=2, inputs={relay: Grouping.fields("word")})
    builder.set_config({"topology.stmgrs": 2, constants.TOPOLOGY_RELIABILITY_MODE: mode,
                        constants.TOPOLOGY_STATEFUL_CHECKPOINT_INTERVAL_SECONDS: 0.5, **config})
    return builder


def counted(run) -> int:
    """Words counted so far (``LocalRun`` or ``RunningTopology``), as the tasks last reported."""
    return sum(t.get("executed", 0) for t in run.status()["tasks"].values()
               if t["component"] == "count")
