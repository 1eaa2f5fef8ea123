"""Event-time windows: alignment, out-of-order tuples, watermarks, lateness."""

from heronpy.windows import Duration, WindowOperator, WindowSpec


def event_time(length, slide=None, channels=(1,), **options):
    spec = WindowSpec(Duration(length), slide and Duration(slide), timestamp_field="t", **options)
    return WindowOperator(spec, channels=list(channels), now=0.0)


def feed(op, timestamps, channel=1):
    """Each timestamp arrives as a tuple named after it; returns every window fired."""
    fired = []
    for t in timestamps:
        fired += op.on_tuple(f"t{t}", channel, now=0.0, timestamp=t)
    return fired


def bounds(windows):
    return [(w.start, w.end, w.tuples) for w in windows]


def test_tumbling_windows_take_out_of_order_tuples_within_the_lag():
    op = event_time(10, lag=Duration(3))
    assert feed(op, [1, 12, 5]) == []  # watermark 9: [0, 10) still open, 5 goes in
    assert op.watermark == 9.0
    assert bounds(feed(op, [14])) == [(0.0, 10.0, ["t1", "t5"])]  # timestamp order
    assert feed(op, [8]) == [] and op.dropped_late == 1  # watermark 11: too late
    assert bounds(op.on_end_of_stream(1, now=0.0)) == [(10.0, 20.0, ["t12", "t14"])]
    assert op.watermark == float("inf")


def test_sliding_windows_fire_in_end_order_with_every_window_a_tuple_is_in():
    op = event_time(10, 5)
    assert bounds(feed(op, [3, 7])) == [(-5.0, 5.0, ["t3"])]
    assert feed(op, [6, 4]) == []  # 4 missed [-5, 5) but is in [0, 10)
    assert bounds(feed(op, [21])) == [(0.0, 10.0, ["t3", "t4", "t6", "t7"]),
                                      (5.0, 15.0, ["t6", "t7"])]
    assert op.dropped_late == 0
    assert bounds(op.on_end_of_stream(1, now=0.0)) == [(15.0, 25.0, ["t21"]),
                                                      (20.0, 30.0, ["t21"])]


def test_a_tuple_on_a_boundary_belongs_to_the_window_that_starts_there():
    op = event_time(10)
    fired = feed(op, [0, 9.999999, 10, 19.9, 20.0]) + op.on_end_of_stream(1, now=0.0)
    assert bounds(fired) == [(0.0, 10.0, ["t0", "t9.999999"]), (10.0, 20.0, ["t10", "t19.9"]),
                             (20.0, 30.0, ["t20.0"])]
    op = event_time(0.1)
    fired = feed(op, [0.1, 0.2, 0.3, 0.30000001, 0.4]) + op.on_end_of_stream(1, now=0.0)
    assert bounds(fired) == [(0.1, 0.2, ["t0.1"]), (0.2, 0.3, ["t0.2"]),
                             (0.3, 0.4, ["t0.3", "t0.30000001"]), (0.4, 0.5, ["t0.4"])]


def test_fractional_slides_do_not_drift_over_ten_thousand_windows():
    op = event_time(0.3, 0.1)
    stamps = [(17_000_000_000 + i) / 10 for i in range(10_000)]  # 1700000000.0, .1, .2, ...
    fired = feed(op, stamps) + op.on_end_of_stream(1, now=0.0)
    assert len(fired) == 10_002
    # window k starts at stamps[k - 2] and holds the tuples on its three 0.1 s boundaries
    for k, w in enumerate(fired):
        held = stamps[max(0, k - 2):k + 1]
        assert w.start == (17_000_000_000 + k - 2) / 10
        assert w.end == (17_000_000_000 + k + 1) / 10
        assert w.tuples == [f"t{t}" for t in held]


def test_only_windows_holding_tuples_fire():
    op = event_time(10)
    assert bounds(feed(op, [5, 45])) == [(0.0, 10.0, ["t5"])]


def test_tuples_in_a_gap_between_windows_belong_to_none_and_are_not_late():
    op = event_time(2, 5)  # windows [0, 2), [5, 7), [10, 12) ...
    fired = feed(op, [1, 3, 6, 8]) + op.on_end_of_stream(1, now=0.0)
    assert bounds(fired) == [(0.0, 2.0, ["t1"]), (5.0, 7.0, ["t6"])]
    assert op.dropped_late == 0


def test_allowed_lateness_fires_the_window_again_with_all_its_tuples():
    op = event_time(10, allowed_lateness=Duration(5))
    assert bounds(feed(op, [2, 4, 11])) == [(0.0, 10.0, ["t2", "t4"])]
    [again] = feed(op, [7])
    assert bounds([again]) == [(0.0, 10.0, ["t2", "t4", "t7"])]
    assert (again.new, again.expired) == (["t7"], [])
    assert feed(op, [13, 16]) == []  # watermark 16 >= 10 + 5: [0, 10) is gone
    assert feed(op, [9]) == [] and op.dropped_late == 1
    assert bounds(op.on_end_of_stream(1, now=0.0)) == [(10.0, 20.0, ["t11", "t13", "t16"])]


def test_a_window_that_gets_its_first_tuple_late_fires_at_once():
    op = event_time(10, allowed_lateness=Duration(10))
    assert feed(op, [25]) == []
    assert feed(op, [5]) == [] and op.dropped_late == 1  # [0, 10) ended 10 + 10 <= 25
    assert bounds(feed(op, [15])) == [(10.0, 20.0, ["t15"])]


def test_late_tuples_go_to_the_late_stream_when_there_is_one():
    op = event_time(10, late_stream="late")
    feed(op, [3, 12, 1, 15, 9])
    assert op.drain_late() == ["t1", "t9"]
    assert op.drain_late() == []
    assert op.dropped_late == 0


def test_the_watermark_never_goes_back():
    op = event_time(10, channels=(1, 2), lag=Duration(1))
    seen = []
    for channel, t in [(1, 50), (2, 40), (2, 30), (1, 20), (2, 60), (1, 55), (1, 52)]:
        op.on_tuple("x", channel, now=0.0, timestamp=t)
        seen.append(op.watermark)
    op.on_watermark(1, 10.0, now=0.0)
    seen.append(op.watermark)
    assert seen == [float("-inf"), 39.0, 39.0, 39.0, 49.0, 54.0, 54.0, 54.0]


def test_the_slowest_channel_holds_the_watermark_back():
    op = event_time(10, channels=(1, 2, 3))
    op.on_tuple("a", 1, now=0.0, timestamp=30)
    op.on_tuple("b", 2, now=0.0, timestamp=40)
    assert op.watermark == float("-inf")  # channel 3 sent nothing yet
    assert op.on_time(now=1000.0) == []  # and no idle timeout: it holds the watermark forever
    assert op.on_tuple("c", 3, now=0.0, timestamp=15) == []
    assert op.watermark == 15.0
    assert bounds(op.on_end_of_stream(3, now=0.0)) == [(10.0, 20.0, ["c"])]
    assert op.watermark == 30.0  # an ended channel no longer holds it back


def test_an_idle_channel_stops_holding_the_watermark_back_until_it_sends_again():
    op = event_time(10, channels=(1, 2, 3), idle_timeout=Duration(5))
    op.on_tuple("a", 1, now=0.0, timestamp=10)
    op.on_tuple("b", 2, now=0.0, timestamp=20)
    op.on_tuple("c", 3, now=0.0, timestamp=5)
    assert op.watermark == 5.0
    op.on_tuple("d", 1, now=4.0, timestamp=30)
    op.on_tuple("e", 2, now=4.5, timestamp=40)
    assert op.watermark == 5.0  # channel 3 is the slowest
    assert op.on_time(now=4.9) == []
    fired = op.on_time(now=5.0)  # channel 3 sent nothing for 5 s: idle
    assert op.watermark == 30.0
    assert bounds(fired) == [(0.0, 10.0, ["c"]), (10.0, 20.0, ["a"]), (20.0, 30.0, ["b"])]
    op.on_tuple("f", 3, now=6.0, timestamp=35)  # active again
    op.on_tuple("g", 1, now=7.0, timestamp=50)
    assert op.watermark == 35.0  # held back by channel 3 again (channel 2 is at 40)
    assert op.on_time(now=10.9) == [] and op.watermark == 35.0
    op.on_time(now=11.0)  # channel 3 idle again, channel 2 too (it last sent at 4.5)
    assert op.watermark == 50.0


def test_when_every_open_channel_is_idle_the_watermark_stays():
    op = event_time(10, channels=(1, 2), idle_timeout=Duration(5))
    op.on_tuple("a", 1, now=0.0, timestamp=30)
    op.on_tuple("b", 2, now=0.0, timestamp=20)
    op.on_end_of_stream(2, now=0.0)
    assert op.watermark == 30.0
    assert op.on_time(now=100.0) == [] and op.watermark == 30.0


def test_watermarks_received_in_band_advance_their_channel():
    op = event_time(10, channels=(1, 2), lag=Duration(2))
    op.on_tuple("a", 1, now=0.0, timestamp=25)
    assert op.on_watermark(2, 8.0, now=0.0) == []
    assert op.watermark == 8.0
    op.on_tuple("b", 2, now=0.0, timestamp=5)  # 5 - 2 < 8: the channel stays at 8
    assert op.watermark == 8.0
    assert bounds(op.on_watermark(2, 12.5, now=0.0)) == [(0.0, 10.0, ["b"])]
    op.on_tuple("c", 2, now=0.0, timestamp=30)  # 30 - 2 > 12.5: timestamps advance it too
    assert op.watermark == 23.0
    assert op.on_watermark(2, float("-inf"), now=0.0) == [] and op.watermark == 23.0
