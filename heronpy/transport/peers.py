"""How a stream manager reaches the other stream managers: over ZeroMQ tcp or over libfabric.

``open_peers`` gives one stream manager's side of the mesh (``Peers``): the ``address`` the
topology master hands to the others, a ``Link`` to each of them (``connect``) and the messages
they sent (``receive``). A message is a list of frame parts: [header, payload, raw buffers...].
A link sends whole messages, in order, and never blocks: when it is full it raises
``zmq.Again``, as a ZeroMQ socket does, so the stream manager's overflow queues and backpressure
work the same over both transports. A ZeroMQ link is a PUSH socket.

Over libfabric, each stream manager has one reliable-datagram endpoint. A message becomes one
fabric message (its part lengths, then its parts) or, when larger than ``MAX_MESSAGE``, several
chunks that the receiver puts back together; every chunk names its sender (container and
incarnation), since a datagram endpoint does not say where a message came from.
"""

from __future__ import annotations

import contextlib
import logging
import os
import struct
from collections import deque
from collections.abc import Callable, Sequence
from time import monotonic, sleep
from typing import Protocol

import zmq

from heronpy import config
from heronpy.transport import fabric, zeromq
from heronpy.transport.fabric import FabricEndpoint, FabricError
from heronpy.transport.loans import Loans

log = logging.getLogger(__name__)

TRANSPORTS = ("zmq", "fabric")
ENVIRONMENT = {config.TRANSPORT: "HERONPY_TRANSPORT",
               config.FABRIC_PROVIDER: "HERONPY_FABRIC_PROVIDER"}
"""The environment variables that give a setting its value when the topology config does not."""

CHUNK = struct.Struct("<IIQ")  # sender (container or task), its incarnation, message length
COUNT = struct.Struct("<I")  # parts in the message; then each part's length (u32), then parts
MAX_MESSAGE = fabric.MAX_MESSAGE + 256
"""The largest fabric message: a frame with a 1 MiB payload and what describes it fits in one."""
RECV_BUFFERS = 16
SEND_BUFFERS = 16
LENT_BUFFERS = RECV_BUFFERS // 2
"""At most this many receive buffers are held beyond a receive (``loans.py``)."""
LEND_FROM = 262144
"""Parts of received messages this large go to ZeroMQ in place (``loans.py``). With in-place
sends (``fabric.SEND_IN_PLACE_FROM``), +17 % MB/s on 1 MiB frames here; no difference at
256 KiB; slower at 64 KiB."""
WARM_UP_SECS = 10.0
SPIN_SECS = 0.001
"""After fabric traffic, a provider without a file descriptor to wait on (shm) is polled
without blocking for this long, then after naps of ``NAP_SECS`` until ``DOZE_SECS`` have
passed; then the stream manager waits ``NAP_MS`` at a time (ZeroMQ sockets wake it)."""
NAP_SECS = 0.00005
DOZE_SECS = 0.02
NAP_MS = 1
BLOCK_MS = 10
"""The longest wait on a provider's file descriptor: bounds what a wake-up it misses costs."""
CLOSE_FLUSH_SECS = 0.5
STALLS_AFTER_LOST_SENDS = frozenset({"shm"})
"""Providers whose send completions stop for good behind a send to a peer that died (shm
completes sends in the order posted): after a peer swap they get a fresh sending endpoint."""


class TransportError(RuntimeError):
    """The configured transport cannot run here; the message says what to install or pick."""


_MIXED = ("a peer stream manager has the address {address!r}, which is not a {transport} "
          f"address: every container must use the same {config.TRANSPORT} (is "
          f"{ENVIRONMENT[config.TRANSPORT]} set differently on some nodes?)")


class Link(Protocol):
    """The way to one other stream manager."""

    def send_multipart(self, frames: Sequence, flags: int = 0, copy: bool = True) -> None:
        """Sends one message without blocking; raises ``zmq.Again`` (nothing sent) when full."""

    def close(self, linger: int | None = None) -> None:
        """Drops what is still queued: the peer is gone."""


class Peers(Protocol):
    """One stream manager's side of the mesh."""

    address: str | bytes
    """What the others connect to (the master passes it on)."""
    handles: list
    """What to poll (POLLIN) for arrivals and for sends that completed: sockets or fds."""

    def connect(self, address: str | bytes) -> Link:
        """A link to the stream manager at ``address``."""

    def warm_up(self, links: list[Link]) -> None:
        """Opens the connections now rather than at the first message (all peers at once)."""

    def receive(self, limit: int) -> list[list]:
        """Up to ``limit`` messages that have arrived, without waiting; moves data. Their
        parts may be lent until the next ``receive``: ``keep`` what must outlive that."""

    def keep(self, message: list) -> list:
        """``message`` (from ``receive``), or a copy of it, to hold until ``release``."""

    def release(self, message: list) -> None:
        """Done with ``message``, which ``keep`` returned."""

    def wait_ms(self, longest: int) -> int:
        """How long the next poll of ``handles`` may block, at most ``longest``."""

    def close(self) -> None:
        """Releases everything (on shutdown or SIGTERM)."""


def setting(topology_config: dict, key: str) -> str:
    """``key`` from the topology config, else from its environment variable, else the default."""
    return str(topology_config.get(key) or os.environ.get(ENVIRONMENT[key])
               or config.DEFAULTS[key])


def open_peers(transport: str, provider: str, container: int, host: str,
               queue_frames: int) -> Peers:
    """Stream manager ``container``'s peers over ``transport`` (``zmq`` on ``host``, or
    ``fabric`` through ``provider``); raises TransportError, saying why, when it cannot."""
    if transport == "zmq":
        return ZmqPeers(host, queue_frames)
    if transport != "fabric":
        raise TransportError(f"{config.TRANSPORT} is {transport!r}; it must be one of "
                             f"{', '.join(TRANSPORTS)}")
    try:
        return FabricPeers(provider, container)
    except (FabricError, ValueError) as err:
        raise TransportError(f"the fabric transport ({config.FABRIC_PROVIDER} = {provider!r}) "
                             f"cannot start: {err}") from err


class ZmqPeers:
    """Peers over ZeroMQ tcp: one PULL socket takes every peer's messages; a PUSH socket per
    peer, holding at most ``queue_frames`` messages, is the link."""

    def __init__(self, host: str, queue_frames: int):
        self._queue_frames = queue_frames
        self._inbox = zeromq.pull(zeromq.context(), queue_frames)
        self.address = zeromq.bind_tcp(self._inbox, host)
        self.handles = [self._inbox]

    def connect(self, address: str) -> zmq.Socket:
        if not isinstance(address, str):
            raise TransportError(_MIXED.format(address=address, transport="zmq"))
        return zeromq.push(zeromq.context(), address, self._queue_frames)

    def warm_up(self, links: list[Link]) -> None:
        """Nothing to do: ZeroMQ connects in the background."""

    def receive(self, limit: int) -> list[list]:
        messages = []
        try:
            while len(messages) < limit:
                messages.append(self._inbox.recv_multipart(zmq.NOBLOCK, copy=False))
        except zmq.Again:
            pass
        return messages

    def keep(self, message: list) -> list:
        return message  # zmq Frames: reference-counted

    def release(self, message: list) -> None:
        pass

    def wait_ms(self, longest: int) -> int:
        return longest

    def close(self) -> None:
        self._inbox.close(linger=0)


class FabricPeers:
    """Peers over one libfabric reliable-datagram endpoint (see the module's docstring)."""

    def __init__(self, provider: str, container: int):
        self._provider = provider
        self._inbox = FabricEndpoint(provider, max_message=MAX_MESSAGE,
                                     recv_buffers=RECV_BUFFERS, send_buffers=SEND_BUFFERS)
        self._endpoints = [self._inbox]  # all progressed; the last one sends
        self.address: bytes = self._inbox.address
        self.handles = self._handles()
        self.sender = (container, int.from_bytes(os.urandom(4), "little"))
        self._links: list[FabricLink] = []
        self._reassembly = Reassembly(self.failed)
        self._loans = Loans(self._inbox, LENT_BUFFERS, LEND_FROM)
        self._active = 0.0  # when fabric traffic last moved
        self.failures = 0

    @property
    def outbox(self) -> FabricEndpoint:
        return self._endpoints[-1]

    def _handles(self) -> list[int]:
        return [fd for fd in (ep.fileno() for ep in self._endpoints) if fd is not None]

    def connect(self, address: bytes) -> FabricLink:
        if not isinstance(address, bytes):
            raise TransportError(_MIXED.format(address=address, transport="fabric"))
        link = FabricLink(self, address)
        try:
            link.target()  # checks the address now
        except (ValueError, FabricError) as err:
            raise TransportError(f"cannot reach a peer stream manager: {err}") from err
        self._links.append(link)
        return link

    def warm_up(self, links: list[FabricLink]) -> None:
        deadline = monotonic() + WARM_UP_SECS
        for link in links:
            outbox, peer = link.target()
            try:
                outbox.warm_up(peer, max(0.1, deadline - monotonic()))
            except (TimeoutError, FabricError) as err:  # its first message will connect it
                log.warning("no connection to a peer stream manager yet: %s", err)

    def forget(self, link: FabricLink, outbox: FabricEndpoint, peer: int) -> None:
        """``link``'s peer (``peer`` on ``outbox``) is gone: gives up on the sends in flight
        to it."""
        self._links.remove(link)
        lost = outbox.in_flight
        outbox.forget(peer)
        if (lost != outbox.in_flight and outbox is self.outbox
                and self._provider in STALLS_AFTER_LOST_SENDS):
            log.info("a fresh %s endpoint sends from now on (the old one stalled)",
                     self._provider)
            self._endpoints.append(FabricEndpoint(self._provider, max_message=MAX_MESSAGE,
                                                  recv_buffers=0, send_buffers=SEND_BUFFERS))
            self.handles = self._handles()

    def receive(self, limit: int) -> list[list]:
        messages = []
        self._loans.end_receive()
        try:
            for endpoint in self._endpoints:  # sends complete, even with ``limit`` 0
                endpoint.progress()
            for link in self._links:
                link.flush()
            while len(messages) < limit and (data := self._inbox.recv(0, copy=False)) is not None:
                message = self._reassembly.take(data)
                if message is None:
                    self._inbox.give_back(data)
                else:
                    messages.append(self._loans.lend(message, data))
        except FabricError as err:
            self.failed(err)
        if messages:
            self.busy()
        return messages

    def keep(self, message: list) -> list:
        return self._loans.keep(message)

    def release(self, message: list) -> None:
        self._loans.release(message)

    def busy(self) -> None:
        self._active = monotonic()

    def wait_ms(self, longest: int) -> int:
        if len(self.handles) < len(self._endpoints):  # nothing to block on (shm)
            idle = monotonic() - self._active
            if idle < SPIN_SECS:
                return 0
            if idle < DOZE_SECS:  # a short nap here, as poll's timeout is in whole ms
                sleep(NAP_SECS)
                return 0
            return min(longest, NAP_MS)
        return min(longest, BLOCK_MS) if all(ep.trywait() for ep in self._endpoints) else 0

    def failed(self, err: Exception | str) -> None:
        """A message was lost (a failed send or receive, a malformed message): logged, the
        1st, 2nd, 4th... time."""
        self.failures += 1
        if self.failures & (self.failures - 1) == 0:
            log.warning("%s (%d fabric failures so far)", err, self.failures)

    def close(self) -> None:
        """Lets sends in flight finish for a moment (peers that still run take them), then
        closes every endpoint."""
        deadline = monotonic() + CLOSE_FLUSH_SECS
        for endpoint in self._endpoints:
            with contextlib.suppress(TimeoutError, FabricError):
                endpoint.flush(max(0.0, deadline - monotonic()))
            endpoint.close()


class FabricLink:
    """The way to one peer over FabricPeers: holds the rest of a message whose first chunks
    went, and refuses (``zmq.Again``) a new message until they have gone too."""

    def __init__(self, peers: FabricPeers, address: bytes):
        self._peers = peers
        self._address = address
        self._outbox: FabricEndpoint | None = None
        self._peer = 0
        self._pending: deque[list] = deque()

    def target(self) -> tuple[FabricEndpoint, int]:
        """The endpoint that sends, and the peer's id there."""
        outbox = self._peers.outbox
        if outbox is not self._outbox:
            self._peer = outbox.connect(self._address)
            self._outbox = outbox
        return outbox, self._peer

    def send_multipart(self, frames: Sequence, flags: int = 0, copy: bool = True) -> None:
        if not self.flush():
            raise zmq.Again()
        chunks = encode(self._peers.sender, frames)
        self._pending.extend(chunks)
        if not self.flush() and len(self._pending) == len(chunks):  # not begun: not taken
            self._pending.clear()
            raise zmq.Again()

    def flush(self) -> bool:
        """Sends what waits, as far as the endpoint takes it; True once nothing waits."""
        if not self._pending:
            return True
        outbox, peer = self.target()
        try:
            while self._pending:
                outbox.sendv(peer, self._pending[0], 0)
                self._pending.popleft()
                self._peers.busy()
        except TimeoutError:
            return False
        except FabricError as err:
            self._peers.failed(err)
            return False
        return True

    def close(self, linger: int | None = None) -> None:
        self._pending.clear()
        self._peers.forget(self, self._outbox, self._peer)  # where its sends went


def encode(sender: tuple[int, int], frames: Sequence, limit: int = MAX_MESSAGE) -> list[list]:
    """The fabric messages, each a list of buffers of at most ``limit`` bytes in all, that
    carry the message ``frames`` from ``sender`` (container or task, incarnation)."""
    parts = [memoryview(frame).cast("B") for frame in frames]
    head = struct.pack(f"<I{len(parts)}I", len(parts), *(part.nbytes for part in parts))
    total = len(head) + sum(part.nbytes for part in parts)
    prefix = CHUNK.pack(*sender, total)
    room = limit - CHUNK.size
    if total <= room:
        return [[prefix, head, *parts]]
    chunks, chunk, left = [], [prefix], room
    for piece in [memoryview(head), *parts]:
        while piece.nbytes:
            take = min(left, piece.nbytes)
            chunk.append(piece[:take])
            piece, left = piece[take:], left - take
            if not left:
                chunks.append(chunk)
                chunk, left = [prefix], room
    if len(chunk) > 1:
        chunks.append(chunk)
    return chunks


class Reassembly:
    """Turns fabric messages back into messages: chunks wait, by sender, for the rest. A
    sender's chunks arrive in order, so only a sender that died mid-message (its successor
    has another incarnation) leaves an incomplete one: dropped, as is anything malformed,
    each reported to ``dropped``. A sender is a container (stream managers) or a task
    (``direct.py``)."""

    def __init__(self, dropped: Callable[[str], None]):
        self._dropped = dropped
        self._partial: dict[int, tuple[int, bytearray, int]] = {}  # sender -> chunks so far

    def take(self, data: bytes | memoryview) -> list | None:
        """The message ``data`` completes (its parts, as memoryviews), if any: parts of
        ``data`` itself when it is a whole message."""
        if len(data) < CHUNK.size:
            self._dropped(f"dropped a fabric message of {len(data)} bytes")
            return None
        sender, incarnation, total = CHUNK.unpack_from(data)
        body = memoryview(data)[CHUNK.size:]
        partial = self._partial.get(sender)
        if partial is None and body.nbytes == total:
            return self._parts(body)
        if partial is None or partial[0] != incarnation:
            if partial is not None:
                self._dropped(f"dropped an incomplete message from sender {sender}'s "
                              "previous incarnation")
            partial = self._partial[sender] = (incarnation, bytearray(), total)
        buffer = partial[1]
        buffer += body
        if len(buffer) < total:
            return None
        del self._partial[sender]
        if len(buffer) > total:
            self._dropped(f"dropped a message from sender {sender} longer than it said")
            return None
        return self._parts(memoryview(buffer))

    def _parts(self, body: memoryview) -> list | None:
        count = COUNT.unpack_from(body)[0] if body.nbytes >= COUNT.size else 0
        start = COUNT.size * (count + 1)
        if not count or start > body.nbytes:
            self._dropped(f"dropped a fabric message that claims {count} parts")
            return None
        lengths = struct.unpack_from(f"<{count}I", body, COUNT.size)
        if start + sum(lengths) != body.nbytes:
            self._dropped("dropped a fabric message whose parts do not add up")
            return None
        parts = []
        for length in lengths:
            parts.append(body[start:start + length])
            start += length
        return parts
