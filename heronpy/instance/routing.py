"""Groupings as choosers: ``choose(values, direct_task)`` returns a task id or a list of them.

Runs in the emitting task (sender-side grouping). Fields grouping hashes a msgpack encoding of
the key with CRC-32, so a key maps to the same task in every process and every run.
"""

from __future__ import annotations

import itertools
import random
import zlib
from collections.abc import Callable

import msgpack

from heronpy.api.stream import GroupingSpec

Chooser = Callable[[list, "int | None"], "int | list[int]"]
_CACHE_LIMIT = 1 << 16


class RoutingError(ValueError):
    """An emit that no grouping can route (bad direct task, custom grouping's bad answer)."""


def fields_index(key, n: int) -> int:
    """Index (0..n-1) of the task that receives ``key``: the same in every process and run.

    ``key`` is the grouped field's value, or a list of values when grouping on several fields.
    """
    return zlib.crc32(msgpack.packb(key)) % n


def chooser(grouping: GroupingSpec, tasks: list[int], field_indices: list[int], context,
            component: str, stream: str) -> Chooser:
    """Compiles one subscription (``tasks`` are the consumer's task ids, in order)."""
    kind = grouping.kind
    if kind in ("shuffle", "none"):
        return _shuffle(tasks)
    if kind == "fields":
        return _fields(tasks, field_indices)
    if kind == "all":
        everyone = list(tasks)
        return lambda values, direct_task: everyone
    if kind == "lowest":
        lowest = min(tasks)
        return lambda values, direct_task: lowest
    if kind == "direct":
        return _direct(tasks, component, stream)
    if kind == "custom":
        return _custom(grouping.custom, tasks, context, component, stream)
    raise ValueError(f"unknown grouping {grouping!r}")


def _shuffle(tasks: list[int]) -> Chooser:
    """Round robin from a random start: even load, no per-tuple random number."""
    start = random.randrange(len(tasks))
    following = itertools.cycle(tasks[start:] + tasks[:start]).__next__
    return lambda values, direct_task: following()


def _fields(tasks: list[int], indices: list[int]) -> Chooser:
    cache: dict = {}
    n = len(tasks)
    single = indices[0] if len(indices) == 1 else None

    def choose(values, direct_task):
        key = values[single] if single is not None else [values[i] for i in indices]
        try:
            return cache[key]
        except KeyError:
            if len(cache) >= _CACHE_LIMIT:
                cache.clear()
            task = cache[key] = tasks[fields_index(key, n)]
            return task
        except TypeError:  # unhashable key (a list, an array): hash without the cache
            return tasks[fields_index(key, n)]

    return choose


def _direct(tasks: list[int], component: str, stream: str) -> Chooser:
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


def _custom(grouper, tasks: list[int], context, component: str, stream: str) -> Chooser:
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
