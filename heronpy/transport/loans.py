"""Lending a fabric endpoint's receive buffers instead of copying messages out of them.

A message that ``FabricEndpoint.recv(copy=False)`` returns lies in a receive buffer, which takes
no new message until it is given back. ``Loans`` gives it back once nobody holds it any more:

- the stream manager, until its next receive, or, for a message it keeps in a queue (``keep``),
  until it has sent it on (``release``);
- ZeroMQ, which sends the message's large parts to a task straight from the buffer (the
  memory stays valid, whatever closes, while anything refers to it). Here ZeroMQ's copy of a
  part costs ~60 µs at 256 KiB and ~200 µs at 1 MiB (a fresh allocation, faulted in page by
  page); lending costs ~15 µs, plus a wake-up of pyzmq's garbage-collector thread when ZeroMQ
  lets go, which made 64 KiB frames slower end to end.

At most ``limit`` buffers are held beyond a receive: past that, messages are copied, so that a
slow task never starves the others of receive buffers.
"""

from __future__ import annotations

import weakref
from collections import deque

import numpy as np
import zmq

from heronpy.transport.fabric import FabricEndpoint


class _Loan:
    """One lent receive buffer (``view``), and how many hold it."""

    __slots__ = ("held", "holders", "view")

    def __init__(self, view: memoryview):
        self.view = view
        self.holders = 1  # the stream manager, until its next receive
        self.held = False  # beyond that receive: counts against the limit


class Loans:
    """The receive buffers of ``endpoint`` lent out (see the module's docstring); parts of at
    least ``lend_from`` bytes go to ZeroMQ in place."""

    def __init__(self, endpoint: FabricEndpoint, limit: int, lend_from: int):
        self._endpoint = endpoint
        self._limit = limit
        self._lend_from = lend_from
        self._received: dict[int, tuple[list, _Loan]] = {}  # id(message): by the last receive
        self._kept: dict[int, tuple[list, _Loan]] = {}  # id(message): kept since
        self._held = 0  # loans held beyond a receive
        self._returned: deque[_Loan] = deque()  # by ZeroMQ (appended from pyzmq's gc thread)

    def lend(self, message: list, view: memoryview) -> list:
        """``message``, received into ``view``, for the stream manager: its large parts become
        ZeroMQ frames that are sent from the buffer, while the limit allows. (A message put
        together from chunks lies elsewhere: ``view`` is given back at once.)"""
        if message[0].obj is not view.obj:
            self._endpoint.give_back(view)
            return message
        loan = _Loan(view)
        self._received[id(message)] = (message, loan)
        for i, part in enumerate(message):
            if part.nbytes >= self._lend_from and self._hold(loan):
                array = np.frombuffer(part, np.uint8)  # unlike a memoryview, it has weakrefs
                loan.holders += 1
                weakref.finalize(array, self._returned.append, loan)
                message[i] = zmq.Frame(array, copy=False)
        return message

    def end_receive(self) -> None:
        """The stream manager is done with what the last receive lent, but for what it kept."""
        while self._returned:
            self._let_go(self._returned.popleft())
        for _, loan in self._received.values():
            self._let_go(loan)
        self._received.clear()

    def keep(self, message: list) -> list:
        """``message`` to hold beyond this receive, until ``release``: itself while the limit
        allows, else a copy. Messages that were not lent are owned already: returned as such."""
        key = id(message)
        entry = self._received.get(key)
        if entry is None:
            return message
        if not self._hold(entry[1]):
            return [bytes(part) for part in message]
        self._kept[key] = self._received.pop(key)
        return message

    def release(self, message: list) -> None:
        """Done with ``message``, which ``keep`` returned."""
        entry = self._kept.pop(id(message), None)
        if entry is not None:
            self._let_go(entry[1])

    def _hold(self, loan: _Loan) -> bool:
        """Whether ``loan`` may be held beyond this receive (it counts against the limit)."""
        if not loan.held:
            if self._held >= self._limit:
                return False
            loan.held = True
            self._held += 1
        return True

    def _let_go(self, loan: _Loan) -> None:
        loan.holders -= 1
        if not loan.holders:
            self._held -= loan.held
            self._endpoint.give_back(loan.view)
