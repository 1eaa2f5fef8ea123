"""Tick tuples: ``topology.tick.tuple.freq.secs`` makes a bolt's ``process_tick`` run
periodically, with Heron's tick tuple."""

import time

import heronpy.api.api_constants as constants
import heronpy.local
from heronpy.api.bolt.bolt import Bolt
from heronpy.api.spout.spout import Spout
from heronpy.api.stream import Grouping
from heronpy.api.topology import TopologyBuilder

RUN_SECS = 1.5
TICK_SECS = 0.2


class SlowSpout(Spout):
    """Emits one tuple every 0.1 s for RUN_SECS, then ends (it paces itself on the clock:
    ``next_tuple`` emits nothing until the next tuple is due)."""

    outputs = ["n"]

    def initialize(self, config, context):
        self.start = time.monotonic()
        self.sent = 0

    def next_tuple(self):
        elapsed = time.monotonic() - self.start
        if elapsed >= RUN_SECS:
            raise StopIteration
        if elapsed >= self.sent * 0.1:
            self.emit([self.sent])
            self.sent += 1


class TickBolt(Bolt):
    """Reports its ticks and data tuples when its input ends."""

    outputs = ["ticks", "tick_streams", "tick_components", "all_is_tick", "data", "data_is_tick",
               "first_tick_after", "elapsed"]

    def initialize(self, config, context):
        self.ticks = []
        self.data = []
        self.start = time.monotonic()

    def process(self, tup):
        self.data.append(Bolt.is_tick(tup))

    def process_tick(self, tup):
        self.ticks.append((time.monotonic() - self.start, tup.stream, tup.component,
                           self.is_tick(tup), tup.values))

    def end_of_stream(self):
        self.emit([
            len(self.ticks),
            sorted({stream for _, stream, _, _, _ in self.ticks}),
            sorted({component for _, _, component, _, _ in self.ticks}),
            all(is_tick for _, _, _, is_tick, _ in self.ticks),
            len(self.data),
            any(self.data),
            self.ticks[0][0] if self.ticks else None,
            time.monotonic() - self.start,
        ])


def test_tick_tuples_reach_process_tick():
    builder = TopologyBuilder("ticks")
    source = builder.add_spout("slow", SlowSpout, par=1)
    builder.add_bolt("ticking", TickBolt, par=2, inputs={source: Grouping.SHUFFLE},
                     config={constants.TOPOLOGY_TICK_TUPLE_FREQ_SECS: TICK_SECS})
    builder.add_bolt("quiet", TickBolt, par=1, inputs={source: Grouping.ALL})
    builder.set_config({"topology.stmgrs": 2})
    result = heronpy.local.run(builder, timeout=60)

    ticking = result.outputs("ticking")
    assert len(ticking) == 2
    total_data = 0
    for (ticks, streams, components, all_is_tick, data, data_is_tick, first_tick_after,
         elapsed) in ticking:
        assert elapsed >= 1.0  # the spout ran for RUN_SECS (the bolt may start a bit later)
        assert ticks >= 3, f"{ticks} ticks in {elapsed:.2f}s"
        assert ticks <= elapsed / TICK_SECS + 1  # not more often than configured
        assert streams == ["__tick"]
        assert components == ["__system"]
        assert all_is_tick is True
        assert data_is_tick is False  # data tuples are not ticks, and ticks skip process()
        assert first_tick_after >= TICK_SECS * 0.9
        total_data += data
    assert total_data == result.metrics["slow"]["emitted"] >= 10

    # a bolt without the setting gets no ticks
    ((ticks, _, _, _, data, _, first_tick_after, _),) = result.outputs("quiet")
    assert ticks == 0 and first_tick_after is None
    assert data == total_data
