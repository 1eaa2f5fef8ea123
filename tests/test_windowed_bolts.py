"""Windowed bolts in real task processes: event time across containers, in-band watermarks,
late tuples, count windows, and Heron's processing-time window bolts."""

import time

import pytest

import heronpy.local
from heronpy.api.bolt.bolt import Bolt
from heronpy.api.bolt.window_bolt import SlidingWindowBolt, TumblingWindowBolt
from heronpy.api.spout.spout import Spout
from heronpy.api.stream import Grouping, Stream
from heronpy.api.topology import TopologyBuilder
from heronpy.topology.logical import InvalidTopologyError
from heronpy.windows import Count, Duration, WindowedBolt

TWO_CONTAINERS = {"topology.stmgrs": 2}


class KeyedEvents(Spout):
    """Emits (key, time) for times 0..29 and keys a, b; each task emits every event."""

    outputs = ["key", "time"]

    def initialize(self, config, context):
        self.events = iter([(k, t) for t in range(30) for k in ("a", "b")])

    def next_tuple(self):
        self.emit(list(next(self.events)))


class SlidingCount(WindowedBolt):
    outputs = ["start", "end", "count"]
    length = Duration(10)
    slide = Duration(5)
    timestamp_field = "time"

    def process_window(self, window, tuples):
        self.emit([window.start, window.end, len(tuples)])


def _topology(bolt, spouts=2, spout=KeyedEvents, name="windows"):
    builder = TopologyBuilder(name)
    source = builder.add_spout("events", spout, par=spouts)
    builder.add_bolt("win", bolt, par=1, inputs={source: Grouping.SHUFFLE})
    return builder


def test_event_time_sliding_windows_across_containers_are_exact():
    result = heronpy.local.run(_topology(SlidingCount), config=TWO_CONTAINERS, timeout=60)
    # two upstream tasks x two keys x 5 or 10 seconds of events per window
    assert result.outputs("win") == [(-5.0, 5.0, 20), (0.0, 10.0, 40), (5.0, 15.0, 40),
                                     (10.0, 20.0, 40), (15.0, 25.0, 40), (20.0, 30.0, 40),
                                     (25.0, 35.0, 20)]


class WindowEnds(WindowedBolt):
    """Per window: emits (window end, count) with the end as the event time downstream."""

    outputs = ["end", "count"]
    length = Duration(5)
    timestamp_field = "time"

    def process_window(self, window, tuples):
        self.emit([window.end - 0.001, len(tuples)])


class SumOfCounts(WindowedBolt):
    """Counts again, in event time taken from the upstream windows' ends."""

    outputs = ["start", "total", "closed_before_end"]
    length = Duration(10)
    timestamp_field = "end"

    def initialize(self, config, context):
        self.finished = False

    def process_window(self, window, tuples):
        self.emit([window.start, sum(t.values[1] for t in tuples), not self.finished])

    def end_of_stream(self):
        self.finished = True


class Endless(Spout):
    """KeyedEvents, then it keeps the stream open (idle) until the bolt has seen everything."""

    outputs = ["key", "time"]

    def initialize(self, config, context):
        self.events = iter([(k, t) for t in range(30) for k in ("a", "b")])
        self.idle_until = None

    def next_tuple(self):
        for event in self.events:
            self.emit(list(event))
            return
        if self.idle_until is None:
            self.idle_until = time.monotonic() + 1.5
        if time.monotonic() >= self.idle_until:
            raise StopIteration


def test_watermarks_travel_in_band_through_a_chain_of_windowed_bolts():
    builder = TopologyBuilder("chain")
    events = builder.add_spout("events", Endless, par=2)
    first = builder.add_bolt("first", WindowEnds, par=2, inputs={events: Grouping.fields("key")})
    builder.add_bolt("second", SumOfCounts, par=1, inputs={first: Grouping.SHUFFLE})
    result = heronpy.local.run(builder, config=TWO_CONTAINERS, timeout=60)
    rows = result.outputs("second")
    assert [(start, total) for start, total, _ in rows] == [(0.0, 40), (10.0, 40), (20.0, 40)]
    # windows closed by watermarks from "first" while the spouts idled, not by end of stream
    assert rows[0][2] and rows[1][2]


class OneLateEvent(Spout):
    outputs = ["key", "time"]

    def initialize(self, config, context):
        self.events = iter([("a", 1), ("a", 12), ("late", 3), ("a", 13)])

    def next_tuple(self):
        self.emit(list(next(self.events)))


class WithLateStream(WindowedBolt):
    outputs = ["start", "keys", Stream(["key", "time"], name="late")]
    length = Duration(5)
    timestamp_field = "time"
    late_stream = "late"

    def process_window(self, window, tuples):
        self.emit([window.start, [t.values[0] for t in tuples]])


def test_late_tuples_go_to_the_late_stream_unchanged():
    result = heronpy.local.run(_topology(WithLateStream, spouts=1, spout=OneLateEvent),
                               timeout=60)
    assert result.outputs("win", "late") == [("late", 3)]
    assert result.outputs("win") == [(0.0, ["a"]), (10.0, ["a", "a"])]


class CountTumbling(WindowedBolt):
    outputs = ["size", "partial"]
    length = Count(7)

    def process_window(self, window, tuples):
        self.emit([len(tuples), window.partial])


def test_count_windows_flush_a_partial_window_at_end_of_stream():
    result = heronpy.local.run(_topology(CountTumbling), config=TWO_CONTAINERS, timeout=60)
    assert result.outputs("win") == [(7, False)] * 17 + [(1, True)]  # 120 tuples


class PacedEvents(Spout):
    """One tuple every 10 ms for 1.2 s."""

    outputs = ["n"]

    def initialize(self, config, context):
        self.n = 0
        self.until = time.monotonic() + 1.2

    def next_tuple(self):
        if time.monotonic() >= self.until:
            raise StopIteration
        self.emit([self.n])
        self.n += 1
        time.sleep(0.01)


class HeronTumbling(TumblingWindowBolt):
    outputs = ["start", "end", "count"]

    def processWindow(self, window_info, tuples):  # noqa: N802 - Heron's name
        self.emit([window_info.start, window_info.end, len(tuples)])


class HeronSliding(SlidingWindowBolt):
    outputs = ["start", "end", "count"]

    def processWindow(self, window_info, tuples):  # noqa: N802 - Heron's name
        self.emit([window_info.start, window_info.end, len(tuples)])


@pytest.mark.parametrize(("bolt", "config", "size", "slide"), [
    (HeronTumbling, {TumblingWindowBolt.WINDOW_DURATION_SECS: 0.25}, 0.25, 0.25),
    (HeronSliding, {SlidingWindowBolt.WINDOW_DURATION_SECS: 0.5,
                    SlidingWindowBolt.WINDOW_SLIDEINTERVAL_SECS: 0.25}, 0.5, 0.25),
])
def test_heron_window_bolts_fire_on_processing_time(bolt, config, size, slide):
    builder = TopologyBuilder("heron_windows")
    source = builder.add_spout("events", PacedEvents, par=2)
    builder.add_bolt("win", bolt, par=1, inputs={source: Grouping.SHUFFLE}, config=config)
    result = heronpy.local.run(builder, config=TWO_CONTAINERS, timeout=60)
    rows = result.outputs("win")
    emitted = result.metrics["events"]["emitted"]
    assert len(rows) >= 4
    for start, end, _ in rows:
        assert end - start == pytest.approx(size)
        assert (start / slide) == pytest.approx(round(start / slide))  # aligned to the slide
    assert [s for s, _, _ in rows] == sorted({s for s, _, _ in rows})
    assert sum(count for _, _, count in rows) == emitted * round(size / slide)


class NoLength(WindowedBolt):
    outputs = ["x"]


class UndeclaredLate(SlidingCount):
    late_stream = "late"


class WrongField(SlidingCount):
    timestamp_field = "when"


@pytest.mark.parametrize(("bolt", "message"), [
    (NoLength, "bolt 'win': NoLength sets no window length"),
    (UndeclaredLate, "bolt 'win': late_stream 'late' is not one of its outputs"),
    (WrongField, "bolt 'win': timestamp_field 'when' is not a field of stream 'default'"),
])
def test_bad_windowed_bolts_fail_at_build_time(bolt, message):
    with pytest.raises(InvalidTopologyError, match=message):
        _topology(bolt).build()


class AckedNumbers(Spout):
    """ATLEAST_ONCE: emits (n, n / 10) for n < 200 with tup_id = n; logs acks and fails."""

    outputs = ["n", "time", Stream(["event", "n"], name="log")]

    def initialize(self, config, context):
        self.numbers = iter(range(200))

    def next_tuple(self):
        n = next(self.numbers)
        self.emit([n, n / 10], tup_id=n)

    def ack(self, tup_id):
        self.emit(["acked", tup_id], stream="log")

    def fail(self, tup_id):
        self.emit(["failed", tup_id], stream="log")


def run_acked(builder: TopologyBuilder):
    """Runs ``builder`` under ATLEAST_ONCE; returns the result and the ids its spout saw acked
    and failed, sorted."""
    builder.set_config({"topology.reliability.mode": "ATLEAST_ONCE",
                        "topology.message.timeout.secs": 20})
    result = heronpy.local.run(builder, timeout=60)
    log = result.outputs("numbers", "log")
    return (result, sorted(n for event, n in log if event == "acked"),
            sorted(n for event, n in log if event == "failed"))


class SlidingSums(WindowedBolt):
    outputs = ["sum"]

    def process_window(self, window, tuples):
        self.emit([sum(t.values[0] for t in tuples)])


class HeronTumbling(TumblingWindowBolt):
    outputs = ["count"]

    def processWindow(self, window_info, tuples):  # noqa: N802
        self.emit([len(tuples)])


@pytest.mark.parametrize("window", [
    {"length": Count(7), "slide": Count(3)},
    {"length": Duration(2), "slide": Duration(1), "timestamp_field": "time"},
    {"length": Duration(1), "slide": Duration(3), "timestamp_field": "time"},  # gaps
    {"heron": {TumblingWindowBolt.WINDOW_DURATION_SECS: 0.2}},
], ids=["sliding count", "sliding event time", "event time with gaps", "Heron tumbling"])
def test_under_atleast_once_a_windowed_bolt_acks_each_tuple_when_it_leaves_its_windows(window):
    """Heron's semantics: once no window holds it. Unacked, each would time out and be
    replayed for ever (the run would not end)."""
    builder = TopologyBuilder("acked_windows")
    spout = builder.add_spout("numbers", AckedNumbers, par=1)
    if "heron" in window:
        builder.add_bolt("win", HeronTumbling, par=1, inputs={spout: Grouping.SHUFFLE},
                         config=window["heron"])
    else:
        bolt = type("Bolt", (SlidingSums,), window)
        builder.add_bolt("win", bolt, par=1, inputs={spout: Grouping.SHUFFLE})
    result, acked, failed = run_acked(builder)
    assert (acked, failed) == (list(range(200)), [])
    assert result.outputs("win")  # windows fired


class Replaying(AckedNumbers):
    """... and emits again what failed."""

    def initialize(self, config, context):
        self.todo = list(range(200))[::-1]

    def next_tuple(self):
        if not self.todo:
            raise StopIteration
        n = self.todo.pop()
        self.emit([n, n / 10], tup_id=n)

    def fail(self, tup_id):
        super().fail(tup_id)
        self.todo.append(tup_id)


class FailsTensOnce(Bolt):
    """Fails each multiple of 10 the first time; passes the rest on, anchored, and acks."""

    outputs = ["n"]

    def initialize(self, config, context):
        self.seen = set()

    def process(self, tup):
        n = tup.values[0]
        if n % 10 == 0 and n not in self.seen:
            self.seen.add(n)
            self.fail(tup)
            return
        self.emit([n], anchors=[tup])
        self.ack(tup)


class TumblingNumbers(WindowedBolt):
    outputs = ["numbers"]
    length = Count(7)

    def process_window(self, window, tuples):
        self.emit([[t.values[0] for t in tuples]])


def test_tuples_replayed_after_a_bounded_spout_drained_its_windows_are_windowed_and_acked():
    """The spout's last tuples wait in a window for its acks while it waits for them: it says
    that only replays may follow, and the window lets go. Replays then go through new
    windows, and the spout ends once every tuple is acked."""
    builder = TopologyBuilder("replayed_windows")
    spout = builder.add_spout("numbers", Replaying, par=1)
    picky = builder.add_bolt("picky", FailsTensOnce, par=2, inputs={spout: Grouping.fields("n")})
    builder.add_bolt("win", TumblingNumbers, par=1, inputs={picky: Grouping.SHUFFLE})
    result, acked, failed = run_acked(builder)
    assert (acked, failed) == (list(range(200)), list(range(0, 200, 10)))
    windowed = [n for (numbers,) in result.outputs("win") for n in numbers]
    assert sorted(windowed) == list(range(200))  # each once, replays included


def test_under_atleast_once_windows_longer_than_the_message_timeout_fail_at_build_time():
    """Storm's check: each tuple would time out in its window and be replayed for ever."""
    reliable = {"topology.reliability.mode": "ATLEAST_ONCE"}
    builder = _topology(SlidingCount)  # event time: 10 s sliding by 5 s
    builder.set_config({**reliable, "topology.message.timeout.secs": 15})
    with pytest.raises(InvalidTopologyError, match=r"bolt 'win': its windows keep a tuple up "
                                                   r"to 15 s .* not less than .*\(15 s\)"):
        builder.build()
    builder.set_config({**reliable, "topology.message.timeout.secs": 16})
    builder.build()
    builder.set_config({**reliable, "topology.enable.message.timeouts": False})
    builder.build()


def test_under_atleast_once_count_windows_the_spouts_cannot_fill_fail_at_build_time():
    """Storm's check: the spouts would stop at topology.max.spout.pending before a window
    fired and let its tuples go."""
    builder = TopologyBuilder("counted")
    spout = builder.add_spout("numbers", AckedNumbers, par=1)
    builder.add_bolt("win", TumblingNumbers, par=1, inputs={spout: Grouping.SHUFFLE})  # 7
    builder.set_config({"topology.reliability.mode": "ATLEAST_ONCE",
                        "topology.max.spout.pending": 7})
    with pytest.raises(InvalidTopologyError, match=r"bolt 'win': its count windows hold 7 "
                                                   r"tuples, not fewer than .*pending \(7\)"):
        builder.build()
    builder.set_config({"topology.reliability.mode": "ATLEAST_ONCE",
                        "topology.max.spout.pending": 8})
    builder.build()
