"""Datagrams between the tasks of one host: collective frames skip the stream managers.

A task that hosts collective nodes binds a Unix datagram socket beside its ZeroMQ inbox
(``path``). Its neighbours (the tasks of every container that shares its host, from the
stream manager's ``hosts`` message) send it their collective frames there: each frame
[header, payload, buffers...] as one datagram, or as chunks of at most ``CHUNK`` bytes put
back together on arrival (``peers.encode`` / ``peers.Reassembly``, keyed by sender task).
Large arrays go through /dev/shm first (``shm.py``), so a datagram usually carries a header
and a descriptor.

Why: a ZeroMQ message crosses an I/O thread on each side, 40-110 µs per leg on a 2-core VM
(more under load), where a Unix datagram takes ~10 µs (``python -m benchmarks.transport``
measures both); through two stream managers a hop is three legs.

Sends never block. While a neighbour's queue is full (or its socket is not bound: a task
that is restarting), what is for it waits here, in order, and ``flush`` sends it once there
is room. Meanwhile ``backlog`` is true and the task emits nothing new (a spout) or takes no
new input (a bolt), waiting for room (its poller) or ``RETRY_MS`` (an unbound neighbour).
Frames between two tasks always take this path, so they stay in order.
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
from collections import deque
from collections.abc import Callable, Sequence

import zmq

from heronpy.transport.peers import Reassembly, encode

CHUNK = 60 * 1024
"""The largest datagram: below the default socket send buffer (208 KiB on Linux) with room
to spare."""
RETRY_MS = 10
"""How often a task retries a neighbour whose socket is not bound (nothing to poll on)."""
_RETRY = (errno.EAGAIN, errno.ENOBUFS, errno.ECONNREFUSED, errno.ENOENT)
"""Send errors after which the datagram waits and is tried again: no room, or the peer's
socket is not bound (yet, or again)."""


def path(inbox_endpoint: str) -> str:
    """Where the task whose ZeroMQ inbox is ``inbox_endpoint`` (``ipc://...``) takes
    datagrams."""
    return inbox_endpoint.removeprefix("ipc://") + ".d"


class DirectInbox:
    """This task's datagram socket: what its neighbours sent, in each one's order."""

    def __init__(self, where: str, dropped: Callable[[str], None]):
        with contextlib.suppress(FileNotFoundError):  # a predecessor's, if we were restarted
            os.unlink(where)
        self._path = where
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.bind(where)
        self._sock.setblocking(False)
        self._reassembly = Reassembly(dropped)

    def fileno(self) -> int:
        return self._sock.fileno()

    def receive(self, limit: int) -> list[list]:
        """Up to ``limit`` frames that have arrived (each a list of memoryviews)."""
        frames = []
        while len(frames) < limit:
            try:
                data = self._sock.recv(CHUNK)
            except BlockingIOError:
                break
            frame = self._reassembly.take(data)
            if frame is not None:
                frames.append(frame)
        return frames

    def close(self) -> None:
        self._sock.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._path)


class DirectLinks:
    """Sockets to this task's neighbours (``add_neighbours``), and what waits for room in
    theirs. ``poller``: the task's, which polls a full neighbour's socket for room."""

    def __init__(self, task: int, poller: zmq.Poller):
        self._sender = (task, int.from_bytes(os.urandom(4), "little"))
        self._poller = poller
        self._paths: dict[int, str] = {}
        self._links: dict[int, _Link] = {}
        self._waiting: set[_Link] = set()

    def add_neighbours(self, paths: dict[int, str]) -> None:
        """Tasks to send to directly: task -> the ``path`` it takes datagrams at (sockets
        connect at the first send)."""
        self._paths.update(paths)

    def __contains__(self, task: int) -> bool:
        return task in self._paths

    @property
    def backlog(self) -> bool:
        """Whether frames wait for room in some neighbour's socket."""
        return bool(self._waiting)

    def send(self, task: int, parts: Sequence) -> None:
        """Sends the frame ``parts`` to neighbour ``task``, or keeps it until there is room."""
        link = self._links.get(task)
        if link is None:
            link = self._links[task] = _Link(self._paths[task])
        link.queue.extend(encode(self._sender, parts, CHUNK))
        self._flush(link)

    def flush(self) -> None:
        """Sends what waits, as far as there is room."""
        for link in list(self._waiting):
            self._flush(link)

    def _flush(self, link: _Link) -> None:
        done = link.send_queued()
        (self._waiting.discard if done else self._waiting.add)(link)
        polled = not done and link.connected  # unconnected, a socket always polls writable
        if polled != link.polled:
            if polled:
                self._poller.register(link.fileno(), zmq.POLLOUT)
            else:
                self._poller.unregister(link.fileno())
            link.polled = polled

    def close(self) -> None:
        for link in self._links.values():
            link.close()


class _Link:
    """A datagram socket connected to one neighbour, and the chunks waiting for it."""

    def __init__(self, where: str):
        self._path = where
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.setblocking(False)
        self.connected = False
        self.polled = False  # registered with the task's poller, for room
        self.queue: deque[list] = deque()

    def fileno(self) -> int:
        return self._sock.fileno()

    def send_queued(self) -> bool:
        """Sends queued chunks while the neighbour takes them; True once none waits."""
        try:
            if not self.connected:  # connected, the socket polls writable only with room
                self._sock.connect(self._path)
                self.connected = True
            while self.queue:
                self._sock.sendmsg(self.queue[0])
                self.queue.popleft()
        except OSError as err:
            if err.errno not in _RETRY:
                raise
            if err.errno != errno.EAGAIN:  # not bound: a restarted neighbour binds afresh
                self.connected = False
            return False
        return True

    def close(self) -> None:
        self._sock.close()
