"""The builder-style twin of heron_word_count.py: components in this file, submitted by
``build_and_submit()`` when the file runs as a program."""

import sys

import heronpy.api.api_constants as constants
from heronpy.api.bolt.bolt import Bolt
from heronpy.api.spout.spout import Spout
from heronpy.api.stream import Grouping
from heronpy.api.topology import TopologyBuilder

LINES = ["the quick brown fox", "jumps over the lazy dog", "the end"]


class LineSpout(Spout):
    outputs = ["line"]

    def initialize(self, config, context):
        self.lines = iter(LINES * int(config.get("repeat", 50)))

    def next_tuple(self):
        self.emit([next(self.lines)])


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
        self.counts[tup.values[0]] = self.counts.get(tup.values[0], 0) + 1

    def end_of_stream(self):
        for word, count in sorted(self.counts.items()):
            self.emit([word, count])


if __name__ == "__main__":
    # the topology name comes from the command line, as with Heron's submitter
    builder = TopologyBuilder(sys.argv[1] if len(sys.argv) > 1 else "builder_word_count")
    lines = builder.add_spout("lines", LineSpout, par=1)
    split = builder.add_bolt("split", SplitBolt, par=2, inputs=[lines])
    builder.add_bolt("count", CountBolt, par=2, inputs={split: Grouping.fields("word")})
    builder.set_config({constants.TOPOLOGY_STMGRS: 2})
    builder.build_and_submit()
