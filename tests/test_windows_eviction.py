"""When the window operator lets go of a tuple (``evicted``: a task acks it then): each tuple
exactly once by the end of the stream, and never before a window that holds it has fired
for the last time; on random streams, one tuple at a time and in vectorised batches."""

from test_windows_properties import long_stream, random_event_spec, random_stream, seeded_streams

from heronpy.windows import Count, Duration, WindowOperator, WindowSpec


def check_evictions(spec, channels, events, rng=None):
    """Feeds ``events`` (one call each, or with ``rng`` runs of tuples in one ``on_tuples``);
    asserts the rules; returns the ids evicted, in order."""
    evicted: list = []
    op = WindowOperator(spec, channels, now=0.0, evicted=evicted.extend)
    gone: set = set()
    now = 0.0

    def after(fired):
        for window in fired:
            assert not gone & set(window.tuples), "a window fired with an evicted tuple"
        assert len(set(evicted)) == len(evicted), "a tuple evicted twice"
        gone.update(evicted)

    batch: list = []

    def flush():
        if batch:
            after(op.on_tuples([e[3] for e in batch], batch[0][1], now,
                               [e[2] / 1000 for e in batch]))
            batch.clear()

    for event in events:
        now += 0.25
        kind, channel = event[:2]
        if kind == "tuple" and rng is not None:
            if batch and (channel != batch[0][1] or rng.random() < 0.1):
                flush()
            batch.append(event)
            continue
        flush()
        if kind == "tuple":
            timestamp = event[2] / 1000 if spec.event_time else None
            after(op.on_tuple(event[3], channel, now, timestamp))
        elif kind == "watermark":
            after(op.on_watermark(channel, event[2] / 1000, now))
        else:
            after(op.on_end_of_stream(channel, now))
    flush()
    assert sorted(evicted) == sorted(e[3] for e in events if e[0] == "tuple")
    return evicted


@seeded_streams
def test_event_time_windows_let_go_of_every_tuple_once(rng, every_batch_vectorised):
    channels = list(range(1, rng.randint(1, 3) + 1))
    spec, _ = random_event_spec(rng)
    events = random_stream(rng, channels) if rng.random() < 0.5 else long_stream(
        rng, channels, 300)
    check_evictions(spec, channels, events)
    check_evictions(spec, channels, events, rng)


@seeded_streams
def test_count_and_processing_time_windows_let_go_of_every_tuple_once(rng):
    channels = list(range(1, rng.randint(1, 3) + 1))
    length = rng.randint(1, 6)
    slide = rng.choice([length, rng.randint(1, length + 2)])
    events = [e for e in random_stream(rng, channels) if e[0] != "watermark"]
    check_evictions(WindowSpec(Count(length), Count(slide)), channels, events)
    check_evictions(WindowSpec(Duration(length / 4), Duration(slide / 4)), channels, events)


def test_a_sliding_count_window_lets_go_of_its_oldest_tuple_as_the_next_comes():
    evicted: list = []
    op = WindowOperator(WindowSpec(Count(3), Count(1)), channels=[1], now=0.0,
                        evicted=evicted.extend)
    for item in "abc":
        op.on_tuple(item, 1, 0.0)
    assert evicted == []
    assert [w.tuples for w in op.on_tuple("d", 1, 0.0)] == [["b", "c", "d"]]
    assert evicted == ["a"]
    op.on_end_of_stream(1, 0.0)
    assert evicted == ["a", "b", "c", "d"]


def test_late_tuples_and_tuples_between_windows_go_at_once():
    evicted: list = []
    spec = WindowSpec(Duration(1), Duration(2), timestamp_field="t")  # gaps: [1, 2) of each 2 s
    op = WindowOperator(spec, channels=[1], now=0.0, evicted=evicted.extend)
    op.on_tuple("in a gap", 1, 0.0, 1.5)
    assert evicted == ["in a gap"]
    op.on_tuple("fires [2, 3)", 1, 0.0, 2.5)
    op.on_watermark(1, 10.0, 0.0)
    assert evicted == ["in a gap", "fires [2, 3)"]
    op.on_tuple("late", 1, 0.0, 2.7)
    assert evicted[-1] == "late" and op.dropped_late == 1


def test_a_flush_fires_what_is_held_and_lets_go_of_it_and_windows_start_afresh():
    """What a task does when every input says that only replays may follow."""
    evicted: list = []
    op = WindowOperator(WindowSpec(Count(3)), channels=[1], now=0.0, evicted=evicted.extend)
    op.on_tuple("a", 1, 0.0)
    op.on_tuple("b", 1, 0.0)
    (window,) = op.flush(0.0)
    assert (window.tuples, window.partial, evicted) == (["a", "b"], True, ["a", "b"])
    assert op.on_tuple("replayed", 1, 0.0) == [] and op.flush(0.0)[0].tuples == ["replayed"]

    evicted.clear()
    op = WindowOperator(WindowSpec(Duration(10), Duration(5), timestamp_field="t"),
                        channels=[1], now=0.0, evicted=evicted.extend)
    op.on_tuple("a", 1, 0.0, 3.0)
    assert [(w.start, w.end, w.tuples, w.partial) for w in op.flush(0.0)] == [
        (-5.0, 5.0, ["a"], True), (0.0, 10.0, ["a"], True)]
    assert evicted == ["a"]
    op.on_tuple("replayed", 1, 0.0, 4.0)
    assert [w.tuples for w in op.on_end_of_stream(1, 0.0)] == [["replayed"], ["replayed"]]
    assert evicted == ["a", "replayed"]
