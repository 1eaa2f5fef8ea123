"""The custom grouping of ``repartition(n, repartition_fn)``."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from heronpy.api.custom_grouping import ICustomGrouping


class RepartitionGrouping(ICustomGrouping):
    """Sends each element to the partitions ``repartition_fn(element, num_partitions)``
    returns: one index or several, each taken modulo the number of partitions (as Heron
    does); an index given twice counts once.

    >>> grouping = RepartitionGrouping(lambda e, n: [0, e])
    >>> grouping.prepare(None, "numbers", "default", [4, 5, 6])
    >>> grouping.choose_tasks([2]), grouping.choose_tasks([3])
    ([4, 6], [4])
    """

    def __init__(self, repartition_fn: Callable[[Any, int], int | Iterable[int]]):
        self.repartition_fn = repartition_fn

    def prepare(self, context, component, stream, target_tasks):
        self._tasks = list(target_tasks)

    def choose_tasks(self, values):
        chosen = self.repartition_fn(values[0], len(self._tasks))
        indices = [chosen] if isinstance(chosen, int) else chosen
        n = len(self._tasks)
        return [self._tasks[i] for i in dict.fromkeys(i % n for i in indices)]
