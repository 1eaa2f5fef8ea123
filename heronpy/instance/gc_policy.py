"""Keeps CPython's cyclic garbage collector off the tuples a task holds on to.

A window bolt keeps every tuple of its open windows alive (10^5 and more); the collector
rescans that heap each time enough survivors accumulate, which cost a window bolt about
40 % of its time. Freezing (``gc.freeze``, O(1)) what survived each handled batch moves it out
of the collector's reach; tuples are still freed by reference counting when their window
expires. Cyclic garbage made by user code would stay frozen, so every ``COLLECT_SECS`` the
heap is unfrozen and collected once.
"""

from __future__ import annotations

import gc
from time import monotonic

COLLECT_SECS = 10.0


class GcPolicy:
    def __init__(self, collect_secs: float = COLLECT_SECS):
        self._collect_secs = collect_secs
        self._next_collect = monotonic() + collect_secs

    def after_batch(self) -> None:
        """Call when a batch of input has been handled: what is still alive is long-lived."""
        now = monotonic()
        if now >= self._next_collect:
            self._next_collect = now + self._collect_secs
            gc.unfreeze()
            gc.collect()
        gc.freeze()
