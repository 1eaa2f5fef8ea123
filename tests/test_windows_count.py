"""Count windows: arrivals at the task, in arrival order, whatever the channel."""

import pytest

from heronpy.windows import Count, WindowOperator, WindowSpec


def feed(op, items, channels=(1,)):
    """Each item arrives on the next channel in turn; returns every window fired."""
    fired = []
    for i, item in enumerate(items):
        fired += op.on_tuple(item, channels[i % len(channels)], now=0.0)
    return fired


def bounds(windows):
    return [(w.start, w.end, w.tuples, w.partial) for w in windows]


def test_sliding_windows_fire_every_slide_with_fewer_tuples_before_the_first_full_one():
    op = WindowOperator(WindowSpec(Count(4), Count(2)), channels=[1, 2], now=0.0)
    fired = feed(op, "abcdef", channels=(1, 2))
    assert bounds(fired) == [(0, 2, ["a", "b"], False),
                             (0, 4, ["a", "b", "c", "d"], False),
                             (2, 6, ["c", "d", "e", "f"], False)]
    assert [(w.new, w.expired) for w in fired] == [
        (["a", "b"], []), (["c", "d"], []), (["e", "f"], ["a", "b"])]


def test_tumbling_windows_flush_a_partial_window_when_every_channel_has_ended():
    op = WindowOperator(WindowSpec(Count(3)), channels=[1, 2], now=0.0)
    assert bounds(feed(op, "abcdefg", channels=(1, 2))) == [
        (0, 3, ["a", "b", "c"], False), (3, 6, ["d", "e", "f"], False)]
    assert op.on_end_of_stream(1, now=0.0) == []
    assert bounds(op.on_end_of_stream(2, now=0.0)) == [(6, 7, ["g"], True)]
    assert op.ended and op.on_time(now=100.0) == []


def test_nothing_is_flushed_when_the_last_window_just_fired():
    op = WindowOperator(WindowSpec(Count(3)), channels=[1], now=0.0)
    assert len(feed(op, "abcdef")) == 2
    assert op.on_end_of_stream(1, now=0.0) == []


def test_sliding_windows_flush_the_last_tuples_if_any_arrived_since_the_last_firing():
    op = WindowOperator(WindowSpec(Count(4), Count(2)), channels=[1], now=0.0)
    assert bounds(feed(op, "abcde")) == [(0, 2, ["a", "b"], False),
                                         (0, 4, ["a", "b", "c", "d"], False)]
    [last] = op.on_end_of_stream(1, now=0.0)
    assert bounds([last]) == [(1, 5, ["b", "c", "d", "e"], True)]
    assert (last.new, last.expired) == (["e"], ["a"])


def test_windows_with_gaps_skip_tuples_and_never_overlap():
    op = WindowOperator(WindowSpec(Count(2), Count(3)), channels=[1], now=0.0)
    assert bounds(feed(op, "abcdefg")) == [(1, 3, ["b", "c"], False),
                                           (4, 6, ["e", "f"], False)]
    assert bounds(op.on_end_of_stream(1, now=0.0)) == [(6, 7, ["g"], True)]


def test_tuples_from_an_ended_or_unknown_channel_are_refused():
    op = WindowOperator(WindowSpec(Count(3)), channels=[1, 2], now=0.0)
    op.on_end_of_stream(1, now=0.0)
    with pytest.raises(ValueError, match="channel 1 has ended"):
        op.on_tuple("a", 1, now=0.0)
    with pytest.raises(ValueError, match=r"channel 9 is not an input \(inputs: \[1, 2\]\)"):
        op.on_tuple("a", 9, now=0.0)
    with pytest.raises(ValueError, match="channel 1 has ended"):
        op.on_end_of_stream(1, now=0.0)
