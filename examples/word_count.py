"""Word count, written as a heronpy (Apache Heron 0.20) user writes it.

    heronpy submit local examples/word_count.py --containers 2

sentences -> split (shuffle) -> count (fields grouping on "word"); each count task emits its
final counts when the input ends.
"""

import random

from heronpy.api.bolt.bolt import Bolt
from heronpy.api.spout.spout import Spout
from heronpy.api.stream import Grouping
from heronpy.api.topology import TopologyBuilder

WORDS = ("nature", "nurture", "heron", "storm", "stream", "bolt", "spout", "tuple", "river",
         "flow", "batch", "window", "grouping", "fields", "shuffle", "master")


class SentenceSpout(Spout):
    """Emits a fixed number of random sentences (seeded, so every run is the same)."""

    outputs = ["sentence"]

    def initialize(self, config, context):
        self.remaining = int(config.get("sentences", 20_000))
        self.rng = random.Random(context.get_task_id())

    def next_tuple(self):
        if self.remaining == 0:
            raise StopIteration
        self.remaining -= 1
        self.emit([" ".join(self.rng.choices(WORDS, k=8))])


class SplitBolt(Bolt):
    outputs = ["word"]

    def process(self, tup):
        for word in tup.values[0].split():
            self.emit([word])


class CountBolt(Bolt):
    outputs = ["word", "count"]

    def initialize(self, config, context):
        self.counts = {}

    def process(self, tup):
        word = tup.values[0]
        self.counts[word] = self.counts.get(word, 0) + 1

    def end_of_stream(self):
        for word, count in sorted(self.counts.items()):
            self.emit([word, count])


if __name__ == "__main__":
    builder = TopologyBuilder("word_count")
    sentences = builder.add_spout("sentences", SentenceSpout, par=1)
    split = builder.add_bolt("split", SplitBolt, par=2, inputs={sentences: Grouping.SHUFFLE})
    builder.add_bolt("count", CountBolt, par=3, inputs={split: Grouping.fields("word")})
    builder.set_config({"topology.stmgrs": 2})
    builder.build_and_submit()
