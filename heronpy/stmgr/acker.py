"""ATLEAST_ONCE bookkeeping for the spouts of one container (Heron keeps it in the stream
manager too): the XOR of every root's tuple tree, and the time each root may take.

A spout announces a root with the XOR of its first edges; every ack XORs in the acked tuple's
value. A root whose XOR is back to 0 is complete; one a bolt failed, or still open after the
message timeout, has failed. ``results()`` hands both to the spouts.

A spout's frames come through another queue than the bolts' (the stream manager stops reading
spouts under backpressure), so a bolt's ack or fail may come before the root's announcement:
acks are XORed in all the same; a fail is kept until the announcement (or the timeout).
"""

from __future__ import annotations

from collections import deque

from heronpy.transport.frame import ROOT_TASK_SHIFT

EARLY_FAIL_SECS = 30.0
"""Without a message timeout, how long a fail waits for its root's announcement."""


class Acker:
    def __init__(self, timeout_secs: float | None):
        self._timeout = timeout_secs
        self._values: dict[int, int] = {}  # root -> XOR so far
        self._announced: set[int] = set()  # roots whose spout has said INIT
        self._deadlines: deque[tuple[float, int]] = deque()  # in announcement order
        self._acked: dict[int, list[int]] = {}  # spout task -> roots
        self._failed: dict[int, list[int]] = {}
        self._failed_early: set[int] = set()  # failed before their announcement
        self._early_deadlines: deque[tuple[float, int]] = deque()  # when to forget them

    def __len__(self) -> int:
        return len(self._values)

    def init(self, root: int, value: int, now: float) -> None:
        self._announced.add(root)
        if root in self._failed_early:
            self._failed_early.discard(root)
            self._values.setdefault(root, 0)
            self._close(root, self._failed)
            return
        if self._timeout is not None:
            self._deadlines.append((now + self._timeout, root))
        self._xor(root, value)

    def ack(self, root: int, value: int) -> None:
        self._xor(root, value)

    def fail(self, root: int, now: float) -> None:
        if root in self._announced:
            self._close(root, self._failed)
        else:  # announced later, or closed already: forgotten after the timeout either way
            self._failed_early.add(root)
            self._early_deadlines.append((now + (self._timeout or EARLY_FAIL_SECS), root))

    def expire(self, now: float) -> None:
        """Fails the roots whose time is up."""
        deadlines = self._deadlines
        while deadlines and deadlines[0][0] <= now:
            _, root = deadlines.popleft()
            if root in self._values:
                self._close(root, self._failed)
        early = self._early_deadlines
        while early and early[0][0] <= now:
            self._failed_early.discard(early.popleft()[1])

    def results(self) -> tuple[dict[int, list[int]], dict[int, list[int]]]:
        """The roots completed and failed since the last call, by spout task."""
        acked, failed = self._acked, self._failed
        self._acked, self._failed = {}, {}
        return acked, failed

    def _xor(self, root: int, value: int) -> None:
        value ^= self._values.get(root, 0)
        self._values[root] = value
        if value == 0 and root in self._announced:
            self._close(root, self._acked)

    def _close(self, root: int, into: dict[int, list[int]]) -> None:
        del self._values[root]
        self._announced.discard(root)
        into.setdefault(root >> ROOT_TASK_SHIFT, []).append(root)
