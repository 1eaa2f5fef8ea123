"""Word count in Heron's class style: the topology is a ``Topology`` subclass.

    heronpy submit local examples/word_count_class.py

The spout and bolts live in this file, as they often did in Heron topologies (which Heron
itself could not load: its task processes could not import ``__main__``).
"""

import itertools

import heronpy.api.api_constants as constants
from heronpy.api.bolt.bolt import Bolt
from heronpy.api.spout.spout import Spout
from heronpy.api.stream import Grouping
from heronpy.api.topology import Topology

WORDS = ("nature", "nurture", "heron", "storm", "stream", "bolt", "spout", "tuple")


class WordSpout(Spout):
    outputs = ["word"]

    def initialize(self, config, context):
        self.words = itertools.islice(itertools.cycle(WORDS), 50_000)

    def next_tuple(self):
        self.emit([next(self.words)])  # StopIteration ends the stream


class CountBolt(Bolt):
    outputs = ["word", "count"]

    def initialize(self, config, context):
        self.counts = {}
        self.ticks = 0

    def process(self, tup):
        word = tup.values[0]
        self.counts[word] = self.counts.get(word, 0) + 1

    def process_tick(self, tup):
        self.ticks += 1
        self.log(f"tick {self.ticks}: {len(self.counts)} distinct words so far")

    def end_of_stream(self):
        for word, count in sorted(self.counts.items()):
            self.emit([word, count])


class WordCount(Topology):
    config = {constants.TOPOLOGY_STMGRS: 2}

    word_spout = WordSpout.spec(par=2)
    count_bolt = CountBolt.spec(par=2, inputs={word_spout: Grouping.fields("word")},
                                config={constants.TOPOLOGY_TICK_TUPLE_FREQ_SECS: 1})
