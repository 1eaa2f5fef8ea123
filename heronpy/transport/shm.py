"""Shared memory for the large raw buffers of frames between processes of one host.

A collective's numpy arrays travel as raw buffers after the frame's payload. Through ZeroMQ
each buffer crosses two sockets (task, stream manager, task) or three (with a stream-manager
hop), at 450-600 us per MiB and socket on a small VM. Between processes that share /dev/shm,
the sender copies each buffer into a segment of its own and sends a small descriptor in its
place; the receiver copies it out and marks the segment free: one copy per side, whatever the
number of hops, and the frame still travels in band, so ordering holds.

A segment is a file ``/dev/shm/heronpy-<pid>-<nonce>-<n>``: a 64-byte head, whose first byte
is 1 while it holds data not yet read, then room for one buffer. A sender reuses the segments
its receivers freed and creates others (room: the next power of two) up to a budget; it never
waits for one: without room, the frame carries its buffers inline as before. The sender
unlinks its segments when it closes, its executor when it dies (``remove_segments``), and
any executor that starts those of processes that are gone.

Freeing is a one-byte store after the copy out; the sender reads that byte before reuse. x86
keeps those in order; the descriptor's trip through sockets (system calls) separates a write
from its read.
"""

from __future__ import annotations

import contextlib
import glob
import mmap
import os
import secrets
import struct

_DIR = "/dev/shm"
_HEAD = 64  # bytes before the data: byte 0 is the state
_FREE, _FULL = 0, 1
_MIN_ROOM = 64 * 1024
_DESCRIPTOR = struct.Struct("<Q")  # the buffer's length, then the segment's name
_MAX_MAPPED = 256  # segments a reader keeps mapped


def domain() -> str | None:
    """What processes must share to exchange segments: this kernel and this /dev/shm mount;
    ``None`` where there is no /dev/shm."""
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            boot = f.read().strip()
        shm = os.stat(_DIR)
    except OSError:
        return None
    return f"{boot}:{shm.st_dev}:{shm.st_ino}"


def remove_segments(pid: int) -> None:
    """Unlinks what a process that died left in /dev/shm (readers keep what they mapped)."""
    for path in glob.glob(os.path.join(_DIR, f"heronpy-{pid}-*")):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def remove_stale_segments() -> None:
    """Unlinks the segments of processes that are gone, whoever started them (a container
    killed together with its executor leaves them)."""
    with contextlib.suppress(OSError):
        pids = {name.split("-")[1] for name in os.listdir(_DIR) if name.startswith("heronpy-")}
        for pid in filter(str.isdigit, pids):
            try:
                os.kill(int(pid), 0)
            except ProcessLookupError:
                remove_segments(int(pid))
            except PermissionError:  # alive, another user's
                pass


class _Segment:
    __slots__ = ("map", "name", "room")

    def __init__(self, name: str, room: int):
        path = os.path.join(_DIR, name)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.posix_fallocate(fd, 0, _HEAD + room)  # ENOSPC now rather than SIGBUS later
            self.map = mmap.mmap(fd, _HEAD + room)
        except BaseException:
            os.unlink(path)
            raise
        finally:
            os.close(fd)
        self.name = name
        self.room = room

    @property
    def free(self) -> bool:
        return self.map[0] == _FREE


class SharedOutbox:
    """The sending side: buffers into segments, descriptors out."""

    def __init__(self, budget: int):
        self._prefix = f"heronpy-{os.getpid()}-{secrets.token_hex(4)}"
        self._budget = budget  # bytes of segments this process may hold
        self._held = 0
        self._segments: list[_Segment] = []

    def put(self, buffers: list) -> list[bytes] | None:
        """Descriptors of ``buffers`` copied into segments; ``None`` (nothing held) when they
        do not all find room."""
        views = [memoryview(b).cast("B") for b in buffers]
        taken: list[_Segment] = []
        for view in views:
            segment = self._take(len(view))
            if segment is None:
                for s in taken:
                    s.map[0] = _FREE
                return None
            segment.map[0] = _FULL
            taken.append(segment)
        descriptors = []
        for view, segment in zip(views, taken, strict=True):
            segment.map[_HEAD:_HEAD + len(view)] = view
            descriptors.append(_DESCRIPTOR.pack(len(view)) + segment.name.encode())
        return descriptors

    def _take(self, size: int) -> _Segment | None:
        """The smallest free segment with room for ``size`` bytes, or a new one."""
        fits = [s for s in self._segments if s.room >= size and s.free]
        if fits:
            return min(fits, key=lambda s: s.room)
        room = max(_MIN_ROOM, 1 << (size - 1).bit_length())
        if self._held + room > self._budget:
            return None
        try:
            segment = _Segment(f"{self._prefix}-{len(self._segments)}", room)
        except OSError:  # /dev/shm is full: inline from now on
            self._budget = self._held
            return None
        self._held += room
        self._segments.append(segment)
        return segment

    def close(self) -> None:
        for segment in self._segments:
            segment.map.close()
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(_DIR, segment.name))
        self._segments.clear()


class SharedInbox:
    """The receiving side: descriptors in, buffers out."""

    def __init__(self) -> None:
        self._maps: dict[str, mmap.mmap] = {}

    def take(self, descriptor) -> bytes:
        """The buffer ``descriptor`` refers to, copied out; its segment is free again."""
        (size,) = _DESCRIPTOR.unpack_from(descriptor)
        name = bytes(descriptor[_DESCRIPTOR.size:]).decode()
        if "/" in name or not name.startswith("heronpy-"):
            raise ValueError(f"not a heronpy segment: {name!r}")
        segment = self._maps.get(name) or self._map(name)
        if segment[0] != _FULL or _HEAD + size > len(segment):
            raise ValueError(f"segment {name} holds no buffer of {size} bytes")
        data = bytes(memoryview(segment)[_HEAD:_HEAD + size])
        segment[0] = _FREE
        return data

    def _map(self, name: str) -> mmap.mmap:
        if len(self._maps) >= _MAX_MAPPED:  # senders that died and were replaced
            self.close()
        fd = os.open(os.path.join(_DIR, name), os.O_RDWR)
        try:
            segment = self._maps[name] = mmap.mmap(fd, 0)
        finally:
            os.close(fd)
        return segment

    def close(self) -> None:
        for segment in self._maps.values():
            segment.close()
        self._maps.clear()
