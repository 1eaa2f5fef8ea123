"""A word count written against the heronpy 0.20 API, class style, as Heron's examples are.

Runs unchanged under ``heronpy submit local`` and ``heronpy.local.run``. The spout is bounded
(Heron's example cycles for ever) so that the run ends; the bolt reports its counts when the
input ends, and on every tick tuple it logs them as Heron's example does.
"""

from collections import Counter

import heronpy.api.api_constants as constants
from heronpy.api.bolt.bolt import Bolt
from heronpy.api.spout.spout import Spout
from heronpy.api.stream import Grouping, Stream
from heronpy.api.topology import Topology

WORDS = ["hello", "bye", "good", "bad", "heron", "storm"]
EMITS_PER_TASK = 600


class WordSpout(Spout):
    outputs = ["word"]

    def initialize(self, config, context):
        self.logger.info("In initialize() of WordSpout")
        self.words = iter(WORDS * (EMITS_PER_TASK // len(WORDS)))
        self.emit_count = 0
        self.ack_count = 0
        self.log("Component-specific config: \n%s" % str(config))  # noqa: UP031

    def next_tuple(self):
        word = next(self.words)  # StopIteration: this spout task is done
        self.emit([word], tup_id="message id")
        self.emit_count += 1

    def ack(self, tup_id):
        self.ack_count += 1


class CountBolt(Bolt):
    outputs = [Stream(["word", "count", "task"]),
               Stream(["task", "component", "stream", "source_tasks", "ticks"], name="audit")]

    def initialize(self, config, context):
        self.logger.info("In prepare() of CountBolt")
        self.counter = Counter()
        self.task_id = context.get_task_id()
        self.sources = set()
        self.origins = set()
        self.ticks = 0
        self.log("Component-specific config: \n%s" % str(config))  # noqa: UP031

    def process(self, tup):
        if Bolt.is_tick(tup):  # never: ticks go to process_tick
            raise AssertionError("tick tuple passed to process()")
        word = tup.values[0]
        self.counter[word] += 1
        self.sources.add(tup.task)
        self.origins.add((tup.component, tup.stream))
        self.ack(tup)

    def process_tick(self, tup):
        assert self.is_tick(tup)
        self.ticks += 1
        self.log("Got tick tuple!")
        self.log("Current map: %s" % str(self.counter))  # noqa: UP031

    def end_of_stream(self):
        for word, count in sorted(self.counter.items()):
            self.emit([word, count, self.task_id])
        for component, stream in sorted(self.origins):
            self.emit([self.task_id, component, stream, sorted(self.sources), self.ticks],
                      stream="audit")


class WordCount(Topology):
    config = {constants.TOPOLOGY_RELIABILITY_MODE: constants.TopologyReliabilityMode.ATLEAST_ONCE,
              constants.TOPOLOGY_STMGRS: 2}
    word_spout = WordSpout.spec(par=2)
    count_bolt = CountBolt.spec(par=2, inputs={word_spout: Grouping.fields("word")},
                                config={constants.TOPOLOGY_TICK_TUPLE_FREQ_SECS: 1})
