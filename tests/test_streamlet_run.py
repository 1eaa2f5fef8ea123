"""Streamlet topologies in real task processes, two containers, small bounded inputs: every
result is checked exactly (windows: count windows, event time, or sums that do not depend on
where processing-time windows fall)."""

import time
from collections import Counter
from functools import partial
from operator import add, itemgetter

from helpers import REPO

import heronpy.local
from heronpy.streamlet import (
    Builder,
    Config,
    Count,
    Generator,
    KeyedWindow,
    Runner,
    Window,
    WindowConfig,
)

TWO_CONTAINERS = {"topology.stmgrs": 2}
EXAMPLE = REPO / "examples" / "streamlet_word_count.py"
SENTENCES = ["the quick brown fox", "jumps over the lazy dog", "the end"] * 20


def _run(builder):
    return heronpy.local.run(builder, config=TWO_CONTAINERS, timeout=60)


def _elements(result, streamlet) -> list:
    """What ``streamlet`` emitted: its tasks in order, each in emission order."""
    return [element for (element,) in result.outputs(streamlet.get_name())]


def _executed_per_task(result, streamlet) -> list[int]:
    tasks = result.metrics[streamlet.get_name()]["tasks"]
    return [tasks[t]["executed"] for t in sorted(tasks)]


def _by_key(results) -> dict:
    """``{key: [result, ...]}`` of keyed window results (a key whose elements were split
    among tasks would show up once per task)."""
    grouped: dict = {}
    for keyed_window, value in sorted(results, key=repr):
        grouped.setdefault(keyed_window.key, []).append(value)
    return grouped


# -- one element at a time ---------------------------------------------------------------

def test_word_count_with_flat_map_filter_and_map():
    builder = Builder()
    words = builder.new_source(SENTENCES).flat_map(str.split).set_num_partitions(2)
    lengths = words.filter(lambda w: w != "the").map(lambda w: (w, len(w)))

    result = _run(builder)

    expected = Counter((w, len(w)) for s in SENTENCES for w in s.split() if w != "the")
    assert Counter(map(tuple, _elements(result, lengths))) == expected
    assert result.metrics["flat_map-1"]["executed"] == len(SENTENCES)
    assert len(_executed_per_task(result, lengths)) == 2


def test_union_has_the_elements_of_both():
    builder = Builder()
    evens = builder.new_source(range(0, 40, 2))
    odds = builder.new_source(lambda: range(1, 40, 2)).set_num_partitions(2)
    union = evens.union(odds).set_name("numbers")

    assert sorted(_elements(_run(builder), union)) == list(range(40))


def test_each_clone_sees_every_element():
    builder = Builder()
    squares = builder.new_source(range(30)).map(lambda n: n * n).set_num_partitions(2)
    clones = squares.clone(3)

    result = _run(builder)

    for clone in clones:
        assert sorted(_elements(result, clone)) == [n * n for n in range(30)]
    assert result.metrics[squares.get_name()]["emitted"] == 30  # once, for all the clones


def _evens_to_0_odds_to_1_and_2(n: int, partitions: int):
    assert partitions == 3
    return 0 if n % 2 == 0 else [1, 2]


def test_repartition_honours_the_repartition_function():
    builder = Builder()
    numbers = builder.new_source(range(30))
    routed = numbers.repartition(3, _evens_to_0_odds_to_1_and_2)
    spread = numbers.repartition(2)

    result = _run(builder)

    evens, odds = list(range(0, 30, 2)), list(range(1, 30, 2))
    assert _elements(result, routed) == evens + odds + odds  # partition 0, then 1, then 2
    assert _executed_per_task(result, routed) == [15, 15, 15]
    assert sorted(_elements(result, spread)) == list(range(30))
    assert all(_executed_per_task(result, spread))


def _write_line(path: str, value) -> None:
    with open(path, "a") as f:
        f.write(f"{value}\n")


def test_consume_calls_the_function_on_every_element_and_log_sees_them_all(tmp_path):
    consumed = tmp_path / "consumed.txt"
    builder = Builder()
    numbers = builder.new_source(range(50))
    numbers.map(lambda n: n * n).set_num_partitions(2).consume(partial(_write_line, str(consumed)))
    numbers.log()

    result = _run(builder)

    assert sorted(map(int, consumed.read_text().split())) == [n * n for n in range(50)]
    assert result.metrics["consume-1"]["executed"] == 50
    assert result.metrics["log-1"]["executed"] == 50


class Partitioned(Generator):
    """Each task emits the numbers below 40 of its partition, with a None ("nothing yet")
    between any two."""

    def setup(self, context):
        self.numbers = iter(range(context.get_partition_index(), 40,
                                  context.get_num_partitions()))
        self.idle = False

    def get(self):
        self.idle = not self.idle
        return None if self.idle else next(self.numbers)


def test_a_generator_runs_in_each_task_of_its_source():
    builder = Builder()
    numbers = builder.new_source(Partitioned()).set_num_partitions(2).map(lambda n: -n)

    result = _run(builder)

    assert sorted(_elements(result, numbers)) == sorted(-n for n in range(40))
    assert len(_executed_per_task(result, numbers)) == 2


def test_runner_runs_the_topology_here():
    builder = Builder()
    builder.new_source(["a b", "c"]).flat_map(str.split).set_name("words")
    config = Config()
    config.set_num_containers(2)

    result = Runner().run("runner", config, builder)

    assert result.plan.logical.name == "runner"
    assert result.plan.logical.num_containers == 2
    assert sorted(e for (e,) in result.outputs("words")) == ["a", "b", "c"]


def test_the_streamlet_example_counts_every_word():
    result = heronpy.local.run(str(EXAMPLE), timeout=60)
    counts = [count for ((keyed_window, count),) in result.outputs("counts")]
    assert sum(counts) == 10_000 * 8
    assert {kw.key for ((kw, _),) in result.outputs("counts")} >= {"heron", "storm"}


# -- windows -----------------------------------------------------------------------------

WORDS = ["a", "b", "a", "c", "a", "b", "b"]


def test_reduce_by_key_and_window_with_count_windows_in_every_form():
    everything = WindowConfig.create_tumbling_window(Count(1000))
    builder = Builder()
    words = builder.new_source(WORDS)
    pairs = words.map(lambda w: (w, 1))
    by3 = pairs.reduce_by_key_and_window(WindowConfig.create_tumbling_window(Count(3)), add)
    totals = pairs.reduce_by_key_and_window(everything, add).set_num_partitions(3)
    lengths = words.reduce_by_key_and_window(str.upper, len, everything, add)
    joined = words.reduce_by_key_and_window(lambda w: w, everything, "", lambda s, w: s + w)

    result = _run(builder)

    w = Window
    assert [tuple(e) for e in _elements(result, by3)] == [
        (KeyedWindow("a", w(0, 3)), 2), (KeyedWindow("b", w(0, 3)), 1),
        (KeyedWindow("c", w(3, 6)), 1), (KeyedWindow("a", w(3, 6)), 1),
        (KeyedWindow("b", w(3, 6)), 1), (KeyedWindow("b", w(6, 7)), 1)]
    assert _by_key(_elements(result, totals)) == {"a": [3], "b": [3], "c": [1]}
    assert sum(_executed_per_task(result, totals)) == len(WORDS)
    assert _by_key(_elements(result, lengths)) == {"A": [3], "B": [3], "C": [1]}
    assert _by_key(_elements(result, joined)) == {"a": ["aaa"], "b": ["bbb"], "c": ["c"]}


EVENTS = [("x", 1), ("y", 2), ("x", 5), ("x", 11), ("y", 12), ("y", 25)]  # (key, time)


def _expected_windows(length: int, slide: int) -> dict:
    """``{key: [(start, end, count), ...]}``: a direct count of EVENTS per window."""
    expected: dict = {}
    for key in sorted({k for k, _ in EVENTS}):
        times = [t for k, t in EVENTS if k == key]
        for start in range(-length, 40, slide):
            count = sum(start <= t < start + length for t in times)
            if count:
                expected.setdefault(key, []).append((start, start + length, count))
    return expected


def test_reduce_by_key_and_window_in_event_time():
    time_of = itemgetter(1)
    tumbling = WindowConfig.create_tumbling_window(10, timestamp_extractor=time_of)
    sliding = WindowConfig.create_sliding_window(10, 5, timestamp_extractor=time_of, lag=1)
    builder = Builder()
    events = builder.new_source(EVENTS).map(tuple).set_num_partitions(2)
    ones = partial(events.reduce_by_key_and_window, itemgetter(0), lambda e: 1)
    streamlets = {(10, 10): ones(tumbling, add), (10, 5): ones(sliding, add)}

    result = _run(builder)

    for (length, slide), streamlet in streamlets.items():
        windows: dict = {}
        for keyed_window, count in sorted(_elements(result, streamlet)):
            span = keyed_window.window
            windows.setdefault(keyed_window.key, []).append((span.start, span.end, count))
        assert windows == _expected_windows(length, slide)
    assert _expected_windows(10, 10) == {"x": [(0, 10, 2), (10, 20, 1)],
                                         "y": [(0, 10, 1), (10, 20, 1), (20, 30, 1)]}


def test_reduce_by_window_with_count_and_processing_time_windows():
    builder = Builder()
    numbers = builder.new_source(range(10))
    by4 = numbers.reduce_by_window(WindowConfig.create_tumbling_window(Count(4)), add)
    per_second = builder.new_source(range(1000)).reduce_by_window(
        WindowConfig.create_tumbling_window(1), add)

    result = _run(builder)

    assert [tuple(e) for e in _elements(result, by4)] == [
        (Window(0, 4), 6), (Window(4, 8), 22), (Window(8, 10), 17)]
    windows = _elements(result, per_second)
    assert sum(total for _, total in windows) == sum(range(1000))
    assert all(window.end - window.start == 1.0 for window, _ in windows)


LEFT = [("a", 1), ("b", 2), ("a", 3)]
RIGHT = [("a", "x"), ("c", "y")]


def test_joins_with_count_windows():
    everything = WindowConfig.create_tumbling_window(Count(100))
    builder = Builder()
    left, right = builder.new_source(LEFT), builder.new_source(RIGHT)
    pair = lambda left_value, right_value: [left_value, right_value]  # noqa: E731
    joins = {how: getattr(left, how)(right, everything, pair).set_num_partitions(2)
             for how in ("join", "outer_left_join", "outer_right_join", "outer_join")}

    result = _run(builder)

    matched = {"a": [[1, "x"], [3, "x"]]}
    assert _by_key(_elements(result, joins["join"])) == matched
    assert _by_key(_elements(result, joins["outer_left_join"])) == {**matched, "b": [[2, None]]}
    assert _by_key(_elements(result, joins["outer_right_join"])) == {
        **matched, "c": [[None, "y"]]}
    assert _by_key(_elements(result, joins["outer_join"])) == {
        **matched, "b": [[2, None]], "c": [[None, "y"]]}
    for streamlet in joins.values():
        assert all(kw.window.start == 0 for kw, _ in _elements(result, streamlet))


def test_joins_in_event_time_by_key_extractors():
    window = WindowConfig.create_tumbling_window(10, timestamp_extractor=itemgetter(1))
    builder = Builder()
    left = builder.new_source([("a", 1, "l1"), ("b", 12, "l2"), ("a", 15, "l3")])
    right = builder.new_source([("b", 3, "r2"), ("a", 4, "r1"), ("c", 16, "r3")])
    key = itemgetter(0)
    labels = lambda a, b: [a and a[2], b and b[2]]  # noqa: E731 - the elements' labels
    inner = left.join(right, key, key, window, labels)
    outer = left.outer_join(right, key, key, window, labels)

    result = _run(builder)

    def rows(streamlet):
        return sorted((kw.key, kw.window.start, kw.window.end, tuple(value))
                      for kw, value in _elements(result, streamlet))

    assert rows(inner) == [("a", 0, 10, ("l1", "r1"))]
    assert rows(outer) == [("a", 0, 10, ("l1", "r1")), ("a", 10, 20, ("l3", None)),
                           ("b", 0, 10, (None, "r2")), ("b", 10, 20, ("l2", None)),
                           ("c", 10, 20, (None, "r3"))]


# -- ATLEAST_ONCE ------------------------------------------------------------------------

RELIABLE = {**TWO_CONTAINERS, "topology.reliability.mode": "ATLEAST_ONCE",
            "topology.message.timeout.secs": 1}


class SlowOnce:
    """A map function that takes longer than the message timeout the first time it sees
    ``slow`` (its tuple tree times out: the source emits the element again)."""

    def __init__(self, slow):
        self.slow = slow
        self.seen = False

    def __call__(self, element):
        if element == self.slow and not self.seen:
            self.seen = True
            time.sleep(2)
        return element * 10


def test_under_atleast_once_a_source_emits_again_what_timed_out():
    builder = Builder()
    tens = builder.new_source(range(50)).map(SlowOnce(7)).set_num_partitions(1)
    seen = tens.filter(lambda n: True)
    totals = tens.reduce_by_window(WindowConfig.create_tumbling_window(Count(1000)), add)

    result = heronpy.local.run(builder, config=RELIABLE, timeout=60)

    got = Counter(_elements(result, seen))
    # at least once: 7 came back (more than once if its replay also waited out the sleep)
    assert set(got) == {n * 10 for n in range(50)} and got[70] >= 2
    # the windows saw it twice too: the replay came after the source drained them (its
    # last window fired early, partial), in a window of its own
    assert sum(total for _, total in _elements(result, totals)) == sum(got.elements())
    assert result.metrics["source-1"]["emitted"] >= 51


def test_under_atleast_once_windowed_operations_and_joins_end_with_every_tuple_acked():
    """Each window acks its tuples as they leave: nothing times out (the run would replay it
    and never end)."""
    builder = Builder()
    words = builder.new_source(WORDS * 10)
    totals = words.map(lambda w: (w, 1)).reduce_by_key_and_window(
        WindowConfig.create_sliding_window(Count(4), Count(2)), add)
    joined = words.join(words, str.upper, str.upper,
                        WindowConfig.create_tumbling_window(Count(1000)), lambda a, b: a + b)

    result = heronpy.local.run(builder, config={**RELIABLE, "topology.message.timeout.secs": 30,
                                                "topology.max.spout.pending": 0}, timeout=60)

    assert sum(v for _, v in _elements(result, totals)) > 0
    assert len(_elements(result, joined)) > 0
    assert result.metrics["source-1"]["emitted"] == 3 * len(WORDS) * 10  # none replayed
