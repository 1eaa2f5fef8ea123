"""Window specs: sizes, exact durations, and the configurations that are refused."""

import pickle

import pytest

from heronpy.windows import Count, Duration, WindowSpec
from heronpy.windows.timebase import to_nanos


def test_durations_are_exact_nanoseconds():
    assert Duration(0.1).nanos == 100_000_000
    assert Duration(milliseconds=250) == Duration(0.25)
    assert Duration(milliseconds=0.5).nanos == 500_000
    assert Duration(2).seconds == 2.0
    assert sum([Duration(0.1).nanos] * 3) == Duration(0.3).nanos  # 0.1 + 0.1 + 0.1 != 0.3


def test_timestamps_are_read_as_the_decimal_they_print_as():
    assert to_nanos(0.3) == 3 * to_nanos(0.1)
    assert to_nanos(1700000000.3) == 1700000000_300_000_000
    assert to_nanos(-0.5) == -500_000_000
    assert to_nanos(1e-5) == 10_000
    assert to_nanos(7) == 7_000_000_000
    with pytest.raises(ValueError, match="finite"):
        to_nanos(float("nan"))
    with pytest.raises(TypeError, match="number of seconds"):
        to_nanos("3")


def test_slide_defaults_to_the_length_and_specs_pickle():
    spec = WindowSpec(Duration(5), timestamp_field="time", lag=Duration(1))
    assert spec.slide == Duration(5)
    assert spec.event_time and not spec.is_count
    assert pickle.loads(pickle.dumps(spec)) == spec
    assert not WindowSpec(Duration(5)).event_time


def test_slide_longer_than_length_is_allowed():
    assert WindowSpec(Duration(1), Duration(5)).slide == Duration(5)
    assert WindowSpec(Count(2), Count(3)).slide == Count(3)


@pytest.mark.parametrize(("make", "error", "message"), [
    (lambda: WindowSpec(Count(3), Duration(1)), TypeError, "both be Count or both be Duration"),
    (lambda: WindowSpec(Duration(1), Count(3)), TypeError, "both be Count or both be Duration"),
    (lambda: WindowSpec(5), TypeError, "Count or a Duration"),
    (lambda: WindowSpec(Duration(0)), ValueError, "must be positive"),
    (lambda: WindowSpec(Duration(1), Duration(0)), ValueError, "must be positive"),
    (lambda: Duration(-1), ValueError, "cannot be negative"),
    (lambda: Duration(), TypeError, "seconds or milliseconds"),
    (lambda: Duration(1, milliseconds=5), TypeError, "seconds or milliseconds"),
    (lambda: Count(0), ValueError, "positive int"),
    (lambda: Count(2.5), ValueError, "positive int"),
    (lambda: WindowSpec(Count(3), timestamp_field="t"), ValueError, "count windows"),
    (lambda: WindowSpec(Duration(1), lag=Duration(1)), ValueError, "event-time windows only"),
    (lambda: WindowSpec(Duration(1), late_stream="late"), ValueError, "event-time windows only"),
    (lambda: WindowSpec(Duration(1), timestamp_field="t", lag=1), TypeError, "a Duration"),
    (lambda: WindowSpec(Duration(1), timestamp_field="t", timestamp_fn=len), ValueError,
     "not both"),
    (lambda: WindowSpec(Duration(1), timestamp_field="t", idle_timeout=Duration(0)), ValueError,
     "idle_timeout must be positive"),
])
def test_invalid_specs_are_refused_with_a_clear_message(make, error, message):
    with pytest.raises(error, match=message):
        make()
