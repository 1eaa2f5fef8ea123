"""Windowed joins by key: inner, outer left, outer right and outer."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from heronpy.streamlet.impl.component import element, key, keyed_stream
from heronpy.streamlet.impl.windowed import WindowedStage
from heronpy.streamlet.keyedwindow import KeyedWindow
from heronpy.streamlet.window import Window


class JoinType(enum.Enum):
    """Which unmatched elements a join keeps (joined with ``None``)."""

    INNER = (False, False)
    OUTER_LEFT = (True, False)
    OUTER_RIGHT = (False, True)
    OUTER = (True, True)


@dataclass(frozen=True)
class Join:
    """Joins one key's left and right elements of one window: ``join_fn(left_value,
    right_value)`` for every pair; an unmatched side's values with ``None`` when the join
    type keeps them.

    >>> join = Join(JoinType.OUTER_LEFT, lambda a, b: (a, b), lambda e: e, lambda e: e)
    >>> join.results([1, 2], ["x"])
    [(1, 'x'), (2, 'x')]
    >>> join.results([1], [])
    [(1, None)]
    >>> join.results([], ["x"])
    []
    """

    how: JoinType
    join_fn: Callable[[Any, Any], Any]
    left_value: Callable[[Any], Any]
    right_value: Callable[[Any], Any]

    def results(self, lefts: list, rights: list) -> list:
        keep_left, keep_right = self.how.value
        left = [self.left_value(e) for e in lefts]
        right = [self.right_value(e) for e in rights]
        if left and right:
            return [self.join_fn(a, b) for a in left for b in right]
        if left and keep_left:
            return [self.join_fn(a, None) for a in left]
        if right and keep_right:
            return [self.join_fn(None, b) for b in right]
        return []


class JoinBolt(WindowedStage):
    """Emits ``(KeyedWindow(key, Window), join result)`` for each result of each key in each
    window, keys in the order they first arrived. Left elements arrive on the stream
    ``<name>.left``, right ones on ``<name>.right`` (so a streamlet may join itself)."""

    def initialize(self, config, context):
        super().initialize(config, context)
        self._left_stream = keyed_stream(context.get_component_id(), "left")

    def process_window(self, window, tuples):
        sides: dict[Any, tuple[list, list]] = {}
        for tup in tuples:
            lefts, rights = sides.setdefault(key(tup), ([], []))
            (lefts if tup.stream == self._left_stream else rights).append(element(tup))
        span = Window(window.start, window.end)
        for k, (lefts, rights) in sides.items():
            for result in self.function.results(lefts, rights):
                self.emit_element((KeyedWindow(k, span), result))
