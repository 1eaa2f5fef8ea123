"""Random streams against brute-force references that restate the rules of docs/windows.md.

Each stream is fed three ways: one call per event with the clock advancing; grouped the way the
runtime delivers batches (one ``now`` per batch, a timer tick between batches); and with each
run of tuples from one channel given to ``on_tuples`` at once (the vectorised path). In event
time without idleness, and for count windows, none may change what fires.
"""

import random

import numpy as np
import pytest

from heronpy.windows import Count, Duration, WindowOperator, WindowSpec
from heronpy.windows.timebase import to_seconds

try:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
except ImportError:  # without hypothesis: the same checks over fixed seeds
    def random_streams(test):
        seeds = [pytest.param(random.Random(seed), id=f"seed{seed}") for seed in range(300)]
        return pytest.mark.parametrize("rng", seeds)(test)
else:
    def random_streams(test):
        return settings(max_examples=300, deadline=None,
                        suppress_health_check=[HealthCheck.function_scoped_fixture])(
            given(rng=st.randoms(use_true_random=False))(test))


def seeded_streams(test):
    """For tests on long streams (too long for hypothesis to draw): fixed seeds."""
    seeds = [pytest.param(random.Random(seed), id=f"seed{seed}") for seed in range(40)]
    return pytest.mark.parametrize("rng", seeds)(test)

INF = float("inf")


def random_stream(rng, channels):
    """Events ("tuple", channel, time, id), ("watermark", channel, time), ("end", channel);
    times are integer milliseconds, out of order, sometimes very late; every channel ends."""
    clock = dict.fromkeys(channels, rng.randint(-30, 30))
    events, open_channels = [], list(channels)
    for i in range(rng.randint(0, 60)):
        channel = rng.choice(open_channels)
        clock[channel] += rng.randint(0, 4)
        roll = rng.random()
        if roll < 0.08:
            events.append(("watermark", channel, clock[channel] - rng.randint(0, 10)))
        elif roll < 0.11 and len(open_channels) > 1:
            events.append(("end", channel))
            open_channels.remove(channel)
        else:
            events.append(("tuple", channel, clock[channel] - rng.randint(0, 12), i))
    rng.shuffle(open_channels)
    return events + [("end", channel) for channel in open_channels]


def drive(op, events, rng=None, base=0):
    """Feeds the events one call each, or with ``rng`` in random batches; returns what fired
    (per window: start, end, tuples, partial, new, expired), the late tuples, the drop count.
    Times are milliseconds after ``base`` seconds."""
    fired, now, watermark = [], 0.0, -INF
    for event in events:
        if rng is None or rng.random() < 0.3:  # a new batch: the clock moves, a tick
            now += 0.25
            fired += op.on_time(now) if rng else []
        kind, channel = event[:2]
        if kind == "tuple":
            fired += op.on_tuple(event[3], channel, now, base + event[2] / 1000)
        elif kind == "watermark":
            fired += op.on_watermark(channel, base + event[2] / 1000, now)
        else:
            fired += op.on_end_of_stream(channel, now)
        assert op.watermark >= watermark  # it never goes back
        watermark = op.watermark
    return ([(w.start, w.end, w.tuples, w.partial, w.new, w.expired) for w in fired],
            op.drain_late(), op.dropped_late)


def drive_batches(op, events, rng, base=0, marks=None):
    """Like ``drive``, but each run of tuples from one channel (cut at random, up to 200) goes
    to ``on_tuples`` in one call. ``marks``: the watermark after each event of a ``drive``
    (``watermarks``), checked where each call ends."""
    fired, now, batch, limit = [], 0.0, [], 1

    def flush(last):
        nonlocal batch
        if batch:
            channel = batch[0][1]
            fired.extend(op.on_tuples([e[3] for e in batch], channel, now,
                                      [base + e[2] / 1000 for e in batch]))
            batch = []
            if marks is not None:
                assert op.watermark == marks[last]

    for n, event in enumerate(events):
        kind, channel = event[:2]
        if batch and (kind != "tuple" or channel != batch[0][1] or len(batch) >= limit):
            flush(n - 1)
        if not batch:
            limit = rng.choice([1, 2, 5, 10, 50, 200])
            now += 0.25
        if kind == "tuple":
            batch.append(event)
            continue
        if kind == "watermark":
            fired += op.on_watermark(channel, base + event[2] / 1000, now)
        else:
            fired += op.on_end_of_stream(channel, now)
        if marks is not None:
            assert op.watermark == marks[n]
    flush(len(events) - 1)
    return ([(w.start, w.end, w.tuples, w.partial, w.new, w.expired) for w in fired],
            op.drain_late(), op.dropped_late)


def watermarks(op, events, base=0):
    """The operator's watermark after each event, fed one call each."""
    marks = []
    for event in events:
        kind, channel = event[:2]
        if kind == "tuple":
            op.on_tuple(event[3], channel, 0.0, base + event[2] / 1000)
        elif kind == "watermark":
            op.on_watermark(channel, base + event[2] / 1000, 0.0)
        else:
            op.on_end_of_stream(channel, 0.0)
        marks.append(op.watermark)
    return marks


def reference_event_time(events, channels, length, slide, lag, lateness, late_stream):
    """Recomputes, after every event, the watermark from each channel's history and which
    windows fire, straight from the rules."""
    channel_marks = dict.fromkeys(channels, -INF)
    watermark = -INF
    held = {}  # window start -> [(time, id)] of the tuples it took
    fired, late = [], []
    previous_first, last_content = None, {}

    def fire(start, first):
        """A first firing compares with the latest first firing, as it last fired; a firing
        again with the window's own previous firing."""
        nonlocal previous_first
        content = [i for _, i in sorted(held[start])]
        compared = last_content.get(previous_first if first else start, [])
        fired.append((start / 1000, (start + length) / 1000, content, False,
                      [i for i in content if i not in compared],
                      [i for i in compared if i not in content]))
        last_content[start] = content
        if first:
            previous_first = start

    for event in events:
        before = watermark
        again = []
        if event[0] == "tuple":
            _, channel, t, i = event
            starts = [s for s in range(t - length - slide, t + slide)
                      if s % slide == 0 and s <= t < s + length]
            taking = [s for s in starts if s + length + lateness > before]
            if starts and not taking:
                late.append(i)
            for s in taking:
                again += [(s, s not in held)] if s + length <= before else []
                held.setdefault(s, []).append((t, i))
            channel_marks[channel] = max(channel_marks[channel], t - lag)
        elif event[0] == "watermark":
            channel_marks[event[1]] = max(channel_marks[event[1]], event[2])
        else:
            channel_marks[event[1]] = INF
        watermark = max(watermark, min(channel_marks.values()))
        for s, first in again:
            fire(s, first)
        for s in sorted(held):
            if before < s + length <= watermark:
                fire(s, True)
    if late_stream:
        return fired, late, 0
    return fired, [], len(late)


def reference_count(events, length, slide):
    """Fires every ``slide`` arrivals with the last ``length``; at the end, the tuples held."""
    arrivals, fired = [], []

    def fire(start, partial):
        content = arrivals[start:]
        previous = fired[-1][2] if fired else []
        fired.append((start, len(arrivals), content, partial,
                      [i for i in content if i not in previous],
                      [i for i in previous if i not in content]))

    for event in events:
        if event[0] == "tuple":
            arrivals.append(event[3])
            if len(arrivals) % slide == 0:
                fire(max(0, len(arrivals) - length), False)
    since = len(arrivals) % slide
    if since:
        held_from = len(arrivals) - since if slide >= length else 0
        fire(max(0, len(arrivals) - length, held_from), True)
    return fired, [], 0


@random_streams
def test_event_time_windows_match_the_reference(rng):
    channels = list(range(1, rng.randint(1, 3) + 1))
    length = rng.randint(1, 12)
    slide = rng.choice([length, rng.randint(1, length + 3)])
    lag, lateness = rng.choice([0, rng.randint(0, 6)]), rng.choice([0, rng.randint(0, 8)])
    late_stream = rng.choice([None, "late"])
    spec = WindowSpec(Duration(milliseconds=length), Duration(milliseconds=slide),
                      timestamp_field="t", lag=Duration(milliseconds=lag),
                      allowed_lateness=Duration(milliseconds=lateness), late_stream=late_stream)
    events = random_stream(rng, channels)
    expected = reference_event_time(events, channels, length, slide, lag, lateness, late_stream)
    assert drive(WindowOperator(spec, channels, now=0.0), events) == expected
    assert drive(WindowOperator(spec, channels, now=0.0), events, rng) == expected


@random_streams
def test_count_windows_match_the_reference(rng):
    channels = list(range(1, rng.randint(1, 3) + 1))
    length = rng.randint(1, 6)
    slide = rng.choice([length, rng.randint(1, length + 2)])
    spec = WindowSpec(Count(length), Count(slide))
    events = [e for e in random_stream(rng, channels) if e[0] != "watermark"]
    expected = reference_count(events, length, slide)
    assert drive(WindowOperator(spec, channels, now=0.0), events) == expected
    assert drive(WindowOperator(spec, channels, now=0.0), events, rng) == expected


BASE = 360360 * 4717  # seconds, ~2023: a multiple of every slide here, so windows align alike


def shifted(expected, base):
    """The reference's windows (milliseconds from 0) as seen ``base`` seconds later."""
    fired, late, dropped = expected
    ms = base * 1000
    return ([(to_seconds((ms + round(s * 1000)) * 10**6), to_seconds((ms + round(e * 1000))
             * 10**6), *rest) for s, e, *rest in fired], late, dropped)


def random_event_spec(rng):
    length = rng.randint(1, 12)
    slide = rng.choice([length, rng.randint(1, length + 3)])
    lag, lateness = rng.choice([0, rng.randint(0, 6)]), rng.choice([0, rng.randint(0, 8)])
    late_stream = rng.choice([None, "late"])
    spec = WindowSpec(Duration(milliseconds=length), Duration(milliseconds=slide),
                      timestamp_field="t", lag=Duration(milliseconds=lag),
                      allowed_lateness=Duration(milliseconds=lateness), late_stream=late_stream)
    return spec, (length, slide, lag, lateness, late_stream)


@random_streams
def test_batches_of_tuples_match_the_reference_and_one_at_a_time(rng, every_batch_vectorised):
    channels = list(range(1, rng.randint(1, 3) + 1))
    spec, params = random_event_spec(rng)
    events = random_stream(rng, channels)
    base = rng.choice([0, BASE])  # small times go through to_nanos, epoch times through numpy
    expected = shifted(reference_event_time(events, channels, *params), base)
    marks = watermarks(WindowOperator(spec, channels, now=0.0), events, base)
    assert drive_batches(WindowOperator(spec, channels, now=0.0), events, rng, base,
                         marks) == expected
    assert drive(WindowOperator(spec, channels, now=0.0), events, base=base) == expected


def long_stream(rng, channels, n):
    """Many tuples in long runs per channel, out of order, some late, a few watermarks."""
    clock = dict.fromkeys(channels, rng.randint(-30, 30))
    events, i = [], 0
    while i < n:
        channel = rng.choice(channels)
        for _ in range(rng.randint(1, 300)):
            clock[channel] += rng.choice([0, 0, 1, 1, 2])
            if rng.random() < 0.01:
                events.append(("watermark", channel, clock[channel] - rng.randint(0, 20)))
            else:
                events.append(("tuple", channel, clock[channel] - rng.choice(
                    [0, 0, 0, rng.randint(0, 15), rng.randint(0, 60)]), i))
                i += 1
    return events + [("end", channel) for channel in channels]


@seeded_streams
def test_long_batches_match_one_at_a_time(rng):
    channels = list(range(1, rng.randint(1, 3) + 1))
    spec, params = random_event_spec(rng)
    events = long_stream(rng, channels, rng.choice([100, 1000]))
    base = rng.choice([0, BASE])
    one = drive(WindowOperator(spec, channels, now=0.0), events, base=base)
    marks = watermarks(WindowOperator(spec, channels, now=0.0), events, base)
    assert drive_batches(WindowOperator(spec, channels, now=0.0), events, rng, base,
                         marks) == one
    if rng.random() < 0.1:  # the reference is slow on long streams: now and then
        assert one == shifted(reference_event_time(events, channels, *params), base)


def rows_columns(tuples, fields):
    """``Window.columns`` as first written: from the rows, one ``np.asarray`` per field."""
    rows = [getattr(t, "values", t) for t in tuples]
    columns = zip(*rows, strict=True) if rows else [()] * len(fields)
    return {name: np.asarray(column) for name, column in zip(fields, columns, strict=True)}


@seeded_streams
def test_columns_of_batched_windows_are_those_of_their_rows(rng):
    channels = [1, 2]
    spec, _ = random_event_spec(rng)
    events = long_stream(rng, channels, 300)
    words = ["a", "bb", "ccc", "dddd"]
    kinds = rng.choice([["word", "n"], ["word", "x"], ["n", "mixed"]])

    def row(i):
        values = {"word": words[i % 4], "n": i, "x": i / 4,
                  "mixed": i if i % 3 else i / 2}
        return [values[k] for k in kinds]

    op = WindowOperator(spec, channels, now=0.0)
    fired, batch = [], []
    for event in [*events, ("flush", 0)]:
        if batch and (event[0] != "tuple" or event[1] != batch[0][1] or rng.random() < 0.05):
            fired += op.on_tuples([row(e[3]) for e in batch], batch[0][1], 0.0,
                                  [BASE + e[2] / 1000 for e in batch])
            batch = []
        if event[0] == "tuple":
            batch.append(event)
        elif event[0] == "end":
            fired += op.on_end_of_stream(event[1], 0.0)
    assert fired
    for window in fired:
        got, expected = window.columns(kinds), rows_columns(window.tuples, kinds)
        for name in kinds:
            assert got[name].dtype == expected[name].dtype
            np.testing.assert_array_equal(got[name], expected[name])
