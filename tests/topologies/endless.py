"""An unbounded topology: it runs until it is stopped (Ctrl-C, a timeout)."""

from heronpy.api.bolt.bolt import Bolt
from heronpy.api.spout.spout import Spout
from heronpy.api.topology import TopologyBuilder


class EndlessSpout(Spout):
    outputs = ["n"]

    def initialize(self, config, context):
        self.n = 0

    def next_tuple(self):
        self.n += 1
        self.emit([self.n])


class DropBolt(Bolt):
    outputs = ["n"]

    def process(self, tup):
        pass


builder = TopologyBuilder("endless")
numbers = builder.add_spout("numbers", EndlessSpout, par=1)
builder.add_bolt("drop", DropBolt, par=2, inputs=[numbers])
builder.set_config({"topology.stmgrs": 2})

if __name__ == "__main__":
    builder.build_and_submit()
