"""Processing-time windows: driven by the ``now`` given to the operator, empty or not."""

from heronpy.windows import Duration, WindowOperator, WindowSpec


def bounds(windows):
    return [(w.start, w.end, w.tuples, w.partial) for w in windows]


def test_windows_fire_on_time_and_empty_when_no_tuple_arrives():
    op = WindowOperator(WindowSpec(Duration(1)), channels=[1], now=10.5)
    assert op.on_time(now=10.9) == []
    assert bounds(op.on_time(now=13.0)) == [(10.0, 11.0, [], False), (11.0, 12.0, [], False),
                                            (12.0, 13.0, [], False)]
    assert op.on_time(now=13.0) == []


def test_tuples_go_in_the_windows_of_the_time_they_arrive():
    op = WindowOperator(WindowSpec(Duration(1), Duration(0.5)), channels=[1, 2], now=100.2)
    assert bounds(op.on_tuple("a", 1, now=100.3)) == []
    assert bounds(op.on_tuple("b", 2, now=101.0)) == [(99.5, 100.5, ["a"], False),
                                                      (100.0, 101.0, ["a"], False)]
    assert bounds(op.on_time(now=101.6)) == [(100.5, 101.5, ["b"], False)]
    assert op.on_tuple("c", 1, now=101.2) == []  # the clock never goes back: c is at 101.6
    assert bounds(op.on_time(now=102.0)) == [(101.0, 102.0, ["b", "c"], False)]


def test_end_of_stream_fires_the_windows_holding_tuples_as_partial():
    op = WindowOperator(WindowSpec(Duration(1), Duration(0.5)), channels=[1, 2], now=0.0)
    op.on_tuple("a", 1, now=0.7)
    assert op.on_end_of_stream(1, now=0.8) == [] and not op.ended
    assert bounds(op.on_end_of_stream(2, now=1.2)) == [
        (0.0, 1.0, ["a"], False), (0.5, 1.5, ["a"], True)]
    assert op.ended and op.on_time(now=5.0) == []


def test_the_watermark_only_follows_upstream_watermarks():
    op = WindowOperator(WindowSpec(Duration(1)), channels=[1, 2], now=0.0)
    op.on_tuple("a", 1, now=5.0)
    assert op.watermark == float("-inf")
    op.on_watermark(1, 3.0, now=5.0)
    op.on_watermark(2, 4.0, now=5.0)
    assert op.watermark == 3.0
