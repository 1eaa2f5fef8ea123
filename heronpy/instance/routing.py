"""Groupings compiled into routes: each finds the destination tasks of emitted tuples.

Runs in the emitting task (sender-side grouping), a whole batch at a time where the grouping
allows it: ``split(batch)`` returns ``(task, values_list)`` groups using C-level loops (a
dict lookup per tuple for fields, slicing for shuffle). DIRECT and custom groupings must route
each tuple as it is emitted (``choose``), so that a bad choice fails at the ``emit`` call.

Fields grouping hashes a msgpack encoding of the key with CRC-32, so a key maps to the same
task in every process and every run.
"""

from __future__ import annotations

import operator
import random
import zlib
from collections.abc import Callable, Iterable

import msgpack

from heronpy.api.stream import GroupingSpec

Groups = Iterable[tuple[int, list]]
_CACHE_LIMIT = 1 << 16


class RoutingError(ValueError):
    """An emit that cannot be routed (a bad direct task, a custom grouping's bad answer)."""


def fields_index(key, n: int) -> int:
    """Index (0..n-1) of the task that receives ``key``: the same in every process and run.

    ``key`` is the grouped field's value, or a tuple of values when grouping on several fields.
    """
    return zlib.crc32(msgpack.packb(key)) % n


class Route:
    """One subscription: ``choose(values, direct_task)`` routes one tuple (a task id or a list
    of them); ``split(batch)`` routes a batch, or is ``None`` when tuples must be routed one by
    one as they are emitted. ``spread`` is how many tasks share a batch's tuples (1 when each
    gets them all)."""

    __slots__ = ("choose", "split", "spread", "tasks")

    def __init__(self, tasks: list[int], choose: Callable, split: Callable[[list], Groups] | None,
                 spread: int | None = None):
        self.tasks = tasks
        self.choose = choose
        self.split = split
        self.spread = len(tasks) if spread is None else spread


def route(grouping: GroupingSpec, tasks: list[int], field_indices: list[int], context,
          component: str, stream: str) -> Route:
    """Compiles one subscription (``tasks`` are the consumer's task ids, in order)."""
    kind = grouping.kind
    if kind == "fields":
        return _fields(tasks, field_indices)
    if kind in ("shuffle", "none"):
        return _shuffle(tasks)
    if kind == "all":
        everyone = list(tasks)
        return Route(tasks, lambda values, direct_task: everyone,
                     lambda batch: [(t, batch) for t in everyone], spread=1)
    if kind == "lowest":
        lowest = min(tasks)
        return Route(tasks, lambda values, direct_task: lowest, lambda batch: [(lowest, batch)],
                     spread=1)
    if kind == "direct":
        return Route(tasks, _direct(tasks, component, stream), None)
    if kind == "custom":
        return Route(tasks, _custom(grouping.custom, tasks, context, component, stream), None)
    raise ValueError(f"unknown grouping {grouping!r}")


def group_by(batch: list, dests: Iterable, tasks: list[int]) -> Groups:
    """Groups ``batch`` by each tuple's destination: a task id, or a list of task ids."""
    groups: dict[int, list] = {t: [] for t in tasks}
    for values, dest in zip(batch, dests, strict=True):
        if dest.__class__ is int:
            groups[dest].append(values)
        else:
            for task in dest:
                groups[task].append(values)
    return [(t, g) for t, g in groups.items() if g]


class _FieldsTable(dict):
    """Key -> task id, filled on first sight, so routing a tuple is one C-level lookup."""

    def __init__(self, tasks: list[int]):
        super().__init__()
        self._tasks = tasks

    def __missing__(self, key):
        if len(self) >= _CACHE_LIMIT:
            self.clear()
        task = self[key] = self._tasks[fields_index(key, len(self._tasks))]
        return task


def _fields(tasks: list[int], indices: list[int]) -> Route:
    n = len(tasks)
    key = operator.itemgetter(*indices)
    lookup = _FieldsTable(tasks).__getitem__

    def choose(values, direct_task=None):
        try:
            return lookup(key(values))
        except TypeError:  # an unhashable key (a list, an array): hash it without the table
            return tasks[fields_index(key(values), n)]

    def split(batch: list) -> Groups:
        try:
            dests = list(map(lookup, map(key, batch)))
        except TypeError:
            dests = [choose(values) for values in batch]
        return group_by(batch, dests, tasks)

    return Route(tasks, choose, split)


def _shuffle(tasks: list[int]) -> Route:
    """Round robin from a random start: even load, one slice per destination per batch."""
    n = len(tasks)
    position = random.randrange(n)

    def choose(values, direct_task=None):
        nonlocal position
        position = (position + 1) % n
        return tasks[position]

    def split(batch: list) -> Groups:
        nonlocal position
        start = position
        position = (position + len(batch)) % n
        return [(tasks[(start + i) % n], batch[i::n]) for i in range(min(n, len(batch)))]

    return Route(tasks, choose, split)


def _direct(tasks: list[int], component: str, stream: str) -> Callable:
    allowed = set(tasks)

    def choose(values, direct_task):
        if direct_task is None:
            raise RoutingError(
                f"'{component}' subscribes to stream '{stream}' with DIRECT grouping: "
                "emit with direct_task=<one of its task ids>")
        if direct_task not in allowed:
            raise RoutingError(
                f"direct_task {direct_task} is not a task of '{component}' (tasks {tasks})")
        return direct_task

    return choose


def _custom(grouper, tasks: list[int], context, component: str, stream: str) -> Callable:
    if isinstance(grouper, str):
        module, _, name = grouper.rpartition(".")
        grouper = getattr(__import__(module, fromlist=[name]), name)()
    grouper.prepare(context, context.get_component_id(), stream, list(tasks))
    allowed = set(tasks)

    def choose(values, direct_task):
        chosen = list(grouper.choose_tasks(values))
        if not allowed.issuperset(chosen):
            raise RoutingError(
                f"custom grouping {type(grouper).__name__} chose {chosen}, but '{component}' has "
                f"tasks {tasks}")
        return chosen

    return choose
