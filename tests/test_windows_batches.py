"""``on_tuples``, the vectorised batch path: exact times, examples, refusals, the driver.

The random comparisons with ``on_tuple`` and the brute-force reference are in
test_windows_properties.py."""

import pickle
import random
from fractions import Fraction

import numpy as np
import pytest

from heronpy.api.tuple import HeronTuple
from heronpy.instance.windowing import WindowDriver
from heronpy.windows import Count, Duration, WindowedBolt, WindowOperator, WindowSpec
from heronpy.windows.time_windows import TimeWindows
from heronpy.windows.timebase import to_nanos, to_nanos_array


def random_floats(rng, n):
    """Floats as timestamps come: epoch seconds with a few decimals or full precision, exact
    ties between two shortest decimals, neighbours of round numbers, small and negative."""
    values = []
    for _ in range(n):
        kind = rng.randrange(8)
        if kind == 0:
            values.append(rng.uniform(2**19, 2**32))
        elif kind == 1:
            values.append(round(rng.uniform(1.6e9, 1.8e9), rng.randint(0, 9)))
        elif kind == 2:
            near = round(rng.uniform(1e6, 4e9), rng.randint(0, 8))
            values.append(float(np.nextafter(near, rng.choice([0, 1e10]))))
        elif kind == 3:  # k/256 past 2^31: two 7-decimal numbers equally close (repr: even)
            values.append(2**31 + rng.randint(0, 2**20) + rng.randint(0, 255) / 256)
        elif kind == 4:
            values.append(rng.uniform(2**19, 2**24))
        elif kind == 5:
            values.append(rng.uniform(-100, 100))
        elif kind == 6:
            values.append(1.7e9 + rng.random() * 1000)
        else:
            values.append(float(rng.randint(-(2**32), 2**32)))
    return values


@pytest.mark.parametrize("seed", range(5))
def test_timestamps_in_numpy_are_exactly_what_to_nanos_gives(seed):
    rng = random.Random(seed)
    floats = random_floats(rng, 20_000)
    ints = [rng.randint(-(4 * 10**9), 4 * 10**9) for _ in range(2_000)]
    mixed = floats[:1000] + ints[:1000]
    rng.shuffle(mixed)
    for values in (floats, ints, mixed, np.array(floats), np.array(ints)):
        nanos, error = to_nanos_array(values)
        assert error is None
        assert nanos.tolist() == [to_nanos(v) for v in list(values)]


def test_timestamps_that_are_not_times_stop_the_conversion_where_to_nanos_fails():
    nanos, error = to_nanos_array([1.5, 2, True, 3.0])
    assert nanos.tolist() == [1_500_000_000, 2_000_000_000] and isinstance(error, TypeError)
    nanos, error = to_nanos_array([1.5, float("nan")])
    assert nanos.tolist() == [1_500_000_000] and isinstance(error, ValueError)
    nanos, error = to_nanos_array([Fraction(1, 10), None])
    assert nanos.tolist() == [100_000_000] and isinstance(error, TypeError)
    assert to_nanos_array([1.0, 10**12]) == (None, None)  # beyond int64's comfort: refused


def event_op(length=10, slide=None, channels=(1,), **options):
    spec = WindowSpec(Duration(length), slide and Duration(slide), timestamp_field="t",
                      **options)
    return WindowOperator(spec, channels=list(channels), now=0.0)


def bounds(windows):
    return [(w.start, w.end, w.tuples) for w in windows]


def test_a_batch_fires_what_its_tuples_fire_one_by_one(every_batch_vectorised):
    op = event_op(10, 5, lag=Duration(1))
    stamps = [3, 7, 6, 4, 21, 2, 26.5, 30]
    fired = op.on_tuples([f"t{t}" for t in stamps], 1, 0.0, stamps)
    assert bounds(fired) == [(-5.0, 5.0, ["t3"]), (0.0, 10.0, ["t3", "t4", "t6", "t7"]),
                             (5.0, 15.0, ["t6", "t7"]), (15.0, 25.0, ["t21"])]
    assert op.watermark == 29.0 and op.dropped_late == 1  # t2 came after [-5, 5) and [0, 10)
    assert bounds(op.on_end_of_stream(1, 0.0)) == [(20.0, 30.0, ["t21", "t26.5"]),
                                                   (25.0, 35.0, ["t26.5", "t30"]),
                                                   (30.0, 40.0, ["t30"])]


def test_late_tuples_in_a_batch_make_fired_windows_fire_again_in_order(every_batch_vectorised):
    def run(feed):
        op = event_op(10, 5, allowed_lateness=Duration(5), late_stream="late")
        fired = feed(op, list("abcdef"), [3, 7, 12, 4, 21, 9])
        return [(w.start, w.tuples, w.new, w.expired) for w in fired], op.drain_late()

    def one_by_one(op, items, stamps):
        return [w for item, t in zip(items, stamps, strict=True)
                for w in op.on_tuple(item, 1, 0.0, t)]

    batched = run(lambda op, items, stamps: op.on_tuples(items, 1, 0.0, stamps))
    assert batched == run(one_by_one)
    assert batched == ([(-5.0, ["a"], ["a"], []),
                        (0.0, ["a", "b"], ["b"], []),
                        (0.0, ["a", "d", "b"], ["d"], []),  # again; [-5, 5) is gone
                        (5.0, ["b", "c"], ["c"], ["a", "d"]),
                        (10.0, ["c"], [], ["b"])], ["f"])


def test_the_batch_path_takes_the_tuples_together(monkeypatch, every_batch_vectorised):
    added = []
    monkeypatch.setattr(TimeWindows, "add", lambda self, t, item: added.append(item) or [])
    op = event_op(10, 1, lag=Duration(1))
    stamps = [1_700_000_000 + i / 1000 for i in range(5000)]
    fired = op.on_tuples([[i] for i in range(5000)], 1, 0.0, stamps)
    assert added == []  # none one at a time
    assert [len(w.tuples) for w in fired] == [1000, 2000, 3000]  # the watermark is at 4 s - 1
    assert fired[-1].columns(["n"])["n"].tolist() == list(range(3000))


def test_batches_refuse_closed_channels_and_bad_timestamps_whole():
    op = event_op(10, channels=(1, 2))
    op.on_tuple("a", 2, 0.0, 5)
    before = pickle.dumps(op.state())
    with pytest.raises(TypeError):
        op.on_tuples(list("bcd"), 1, 0.0, [1, "2", 3])
    assert pickle.dumps(op.state()) == before  # nothing taken
    with pytest.raises(ValueError, match="not an input"):
        op.on_tuples(list("bc"), 3, 0.0, [1, 2])
    with pytest.raises(ValueError, match="2 tuples but 1 timestamps"):
        op.on_tuples(list("bc"), 1, 0.0, [1])
    op.on_end_of_stream(1, 0.0)
    with pytest.raises(ValueError, match="has ended"):
        op.on_tuples(list("bc"), 1, 0.0, [1, 2])


def test_count_and_processing_time_batches_are_taken_one_by_one():
    op = WindowOperator(WindowSpec(Count(3)), channels=[1], now=0.0)
    assert [w.tuples for w in op.on_tuples(list("abcdefg"), 1, 0.0)] == [list("abc"),
                                                                         list("def")]
    op = WindowOperator(WindowSpec(Duration(1)), channels=[1], now=0.5)
    assert op.on_tuples(list("ab"), 1, 0.7) == []
    assert bounds(op.on_tuples(list("cd"), 1, 1.2)) == [(0.0, 1.0, ["a", "b"])]


class Recorder(WindowedBolt):
    length = Duration(10)
    slide = Duration(5)
    timestamp_field = "time"
    late_stream = "late"

    def __init__(self):
        self.windows = []

    def process_window(self, window, tuples):
        self.windows.append((window.start, [t.values[0] for t in tuples],
                             window.columns(["key", "time"])["time"].tolist()))


def driver_run(batches):
    bolt, emitted = Recorder(), []
    spec = Recorder.window_spec({})
    driver = WindowDriver(bolt, spec, [1, 2], {"events:default": 1},
                          lambda values, stream: emitted.append((stream, values)),
                          lambda watermark: emitted.append(("watermark", watermark)))
    error = None
    for source, rows in batches:
        try:
            driver.on_tuples([HeronTuple(None, "events", "default", source, row, 0.0, None)
                              for row in rows], source)
        except Exception as err:
            error = err
    driver.on_end_of_stream(1)
    driver.on_end_of_stream(2)
    return bolt.windows, emitted, error


def test_the_driver_gives_a_batch_to_the_operator_whole_and_fires_alike():
    rows = [[f"k{i}", 1_700_000_000 + (i * 7919 % 1000) / 50] for i in range(1000)]
    batched = [(1 + i // 100 % 2, rows[i:i + 100]) for i in range(0, 1000, 100)]
    one_by_one = [(source, [row]) for source, part in batched for row in part]

    def outcome(batches):
        windows, emitted, error = driver_run(batches)
        marks = [value for stream, value in emitted if stream == "watermark"]
        return windows, [e for e in emitted if e[0] != "watermark"], marks[-1], error

    windows, late, last_mark, error = outcome(batched)
    assert outcome(one_by_one) == (windows, late, last_mark, error)
    assert error is None and last_mark == 1_700_000_019.98  # ahead of the watermarks
    assert 0 < len(late) < 1000 and len(windows) == 5


def test_the_driver_takes_a_batch_with_a_bad_timestamp_one_by_one():
    rows = [["a", 1_700_000_001.0], ["b", 1_700_000_012.0], ["c", None], ["d", 1_700_000_013.0]]
    windows, _, error = driver_run([(1, rows[:2]), (2, rows)])
    # as before batches: a and b went in on channel 2, then c was refused
    assert isinstance(error, TypeError)
    assert [(start, keys) for start, keys, _ in windows] == [
        (1_699_999_995.0, ["a", "a"]), (1_700_000_000.0, ["a", "a"]),  # fired by channel 2's b
        (1_700_000_005.0, ["b", "b"]), (1_700_000_010.0, ["b", "b"])]
