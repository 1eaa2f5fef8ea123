"""The Window value (new, expired, columns) and checkpointing an operator."""

import pickle

import numpy as np
import pytest

from heronpy.api.tuple import HeronTuple
from heronpy.windows import Duration, Window, WindowOperator, WindowSpec


def test_columns_give_one_numpy_array_per_field():
    tuples = [HeronTuple(None, "src", "default", 3, [i, f"w{i}", i / 2], 0.0, None)
              for i in range(3)]
    columns = Window(0.0, 1.0, tuples).columns(["n", "word", "half"])
    assert list(columns) == ["n", "word", "half"]
    np.testing.assert_array_equal(columns["n"], [0, 1, 2])
    assert columns["n"].dtype.kind == "i" and columns["half"].dtype.kind == "f"
    assert list(columns["word"]) == ["w0", "w1", "w2"]


def test_columns_of_an_empty_window_are_empty_and_field_counts_must_match():
    assert {k: len(v) for k, v in Window(0.0, 1.0, []).columns(["a", "b"]).items()} == {
        "a": 0, "b": 0}
    with pytest.raises(ValueError, match="2 field names for tuples of 3 values"):
        Window(0.0, 1.0, [[1, 2, 3]]).columns(["a", "b"])


def test_new_and_expired_compare_with_the_previous_window_that_fired():
    spec = WindowSpec(Duration(10), Duration(5), timestamp_field="t")
    op = WindowOperator(spec, channels=[1], now=0.0)
    fired = []
    for t in [1, 6, 12, 30]:
        fired += op.on_tuple(t, 1, now=0.0, timestamp=t)
    assert [(w.start, w.tuples, w.new, w.expired) for w in fired] == [
        (-5.0, [1], [1], []),
        (0.0, [1, 6], [6], []),
        (5.0, [6, 12], [12], [1]),
        (10.0, [12], [], [6]),
    ]


def test_equal_values_are_still_different_tuples():
    op = WindowOperator(WindowSpec(Duration(1)), channels=[1], now=0.0)
    op.on_tuple("x", 1, now=0.1)
    [first] = op.on_tuple("x", 1, now=1.1)
    [second] = op.on_time(now=2.0)
    assert (first.tuples, second.tuples) == (["x"], ["x"])
    assert (second.new, second.expired) == (["x"], ["x"])


def test_an_operator_restored_from_its_state_goes_on_alike():
    spec = WindowSpec(Duration(10), Duration(5), timestamp_field="t", lag=Duration(3),
                      allowed_lateness=Duration(4), late_stream="late")
    op = WindowOperator(spec, channels=[1, 2], now=0.0)
    for channel, t in [(1, 3), (2, 8), (1, 14), (2, 11), (2, 2)]:
        op.on_tuple(t, channel, now=0.0, timestamp=t)
    restored = WindowOperator(spec, channels=[1, 2], now=0.0)
    restored.restore(pickle.loads(pickle.dumps(op.state())))

    def rest(o):
        fired = []
        for channel, t in [(2, 13), (1, 4), (1, 25), (2, 21), (2, 1)]:
            fired += o.on_tuple(t, channel, now=0.0, timestamp=t)
        fired += o.on_end_of_stream(1, now=0.0) + o.on_end_of_stream(2, now=0.0)
        return [(w.start, w.tuples, w.new, w.expired) for w in fired], o.drain_late()

    expected = rest(op)
    assert expected == ([(0.0, [2, 3, 8], [8], []),
                         (0.0, [2, 3, 4, 8], [4], []),
                         (5.0, [8, 11, 13, 14], [11, 13, 14], [2, 3, 4]),
                         (10.0, [11, 13, 14], [], [8]),
                         (15.0, [21], [21], [11, 13, 14]),
                         (20.0, [21, 25], [25], []),
                         (25.0, [25], [], [21])], [1])
    assert rest(restored) == expected
    assert rest(WindowOperator(spec, channels=[1, 2], now=0.0)) != expected
