"""Routes as pure functions: what each grouping does to a batch, without processes."""

import pytest

from heronpy.api.stream import Grouping
from heronpy.instance.routing import RoutingError, fields_index, group_by, route

TASKS = [4, 7, 9]


class _Context:
    def get_component_id(self):
        return "source"


def _route(grouping, indices=()):
    return route(grouping, TASKS, list(indices), _Context(), "consumer", "default")


def _delivered(groups):
    return {task: list(values) for task, values in groups}


def test_shuffle_splits_a_batch_evenly_and_keeps_round_robin_across_batches():
    r = _route(Grouping.SHUFFLE)
    received = {t: 0 for t in TASKS}
    for size in (10, 1, 2, 30):
        for task, values in r.split([[i] for i in range(size)]):
            received[task] += len(values)
    assert sum(received.values()) == 43
    assert max(received.values()) - min(received.values()) <= 1


def test_fields_sends_equal_keys_to_the_task_given_by_fields_index():
    r = _route(Grouping.fields("word"), [1])
    batch = [[i, w] for i, w in enumerate(["a", "b", "a", "c", "b", "a"])]
    for task, values in r.split(batch):
        assert {TASKS[fields_index(w, 3)] for _, w in values} == {task}
    assert sum(len(v) for _, v in r.split(batch)) == len(batch)


def test_fields_on_two_fields_and_on_unhashable_values():
    two = _route(Grouping.fields("a", "b"), [0, 1])
    (task, _), = two.split([["x", 1]])
    assert task == TASKS[fields_index(("x", 1), 3)]
    listy = _route(Grouping.fields("a"), [0])
    (task, values), = listy.split([[[1, 2]]])
    assert task == TASKS[fields_index([1, 2], 3)] and values == [[[1, 2]]]


def test_all_and_lowest():
    batch = [[1], [2]]
    assert _delivered(_route(Grouping.ALL).split(batch)) == {t: batch for t in TASKS}
    assert _delivered(_route(Grouping.LOWEST).split(batch)) == {4: batch}


def test_direct_validates_the_task_at_emit_time():
    r = _route(Grouping.DIRECT)
    assert r.split is None
    assert r.choose([1], 7) == 7
    with pytest.raises(RoutingError, match="direct_task=<one of its task ids>"):
        r.choose([1], None)
    with pytest.raises(RoutingError, match="not a task of 'consumer'"):
        r.choose([1], 5)


def test_group_by_accepts_single_tasks_and_lists():
    groups = _delivered(group_by([["a"], ["b"]], [7, [4, 9]], TASKS))
    assert groups == {7: [["a"]], 4: [["b"]], 9: [["b"]]}
