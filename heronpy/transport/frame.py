"""The frame: a fixed 24-byte header, then an opaque payload the stream manager never decodes.

A message is a list of parts: the header, the payload, and optionally raw buffers (numpy arrays
of a collective, sent without a copy) that the payload refers to by position.

Header (little-endian): kind u8, flags u8, stream u16, source task u32, destination task u32,
count u32, sequence u64. Task id 0 is the stream manager itself (control frames).
"""

from __future__ import annotations

import struct
from enum import IntEnum

import msgpack

HEADER = struct.Struct("<BBHIIIQ")
DEST = struct.Struct("<I")
DEST_OFFSET = 8


class Kind(IntEnum):
    DATA = 1  # payload: msgpack list of tuple values
    END_OF_STREAM = 2  # no payload: the source task will send nothing more on this channel
    CONTROL = 3  # payload: msgpack dict with a "type" key
    WATERMARK = 4  # payload: the source task's event-time watermark, a little-endian double
    ACK = 5  # payload: msgpack list of [root, xor value]; to the task that emitted the root
    BARRIER = 6  # no payload; sequence = the checkpoint id (EFFECTIVELY_ONCE)
    COLLECTIVE = 7  # stream = collective graph, count = its destination node, sequence = round;
    # payload: [source node, value] (raw array buffers follow), or [source node] with NODE_ENDED
    DRAINED = 8  # no payload: nothing new will follow from the source task, only replays of
    # failed tuples (ATLEAST_ONCE: a bounded spout waiting for its acks); windows let go


ANCHORED = 1
"""DATA flag: the payload is [values list, roots list], one [root, id] list per tuple."""
INIT = 1
"""ACK flag: a spout starts tracking these roots (value: the XOR of their first edges)."""
FAIL = 2
"""ACK flag: these roots failed (a bolt called fail)."""
NODE_ENDED = 1
"""COLLECTIVE flag: the source node has ended; the sequence is its end round."""
SHARED = 2
"""COLLECTIVE flag: the raw buffers are descriptors of shared-memory segments (transport/shm.py)."""
ROOT_TASK_SHIFT = 40
"""A root id is the emitting spout task's id shifted left by this, plus a counter: acks find
their way to the spout's stream manager by routing on ``root >> ROOT_TASK_SHIFT``."""


def header(kind: Kind, stream: int, source: int, dest: int, count: int = 0, seq: int = 0,
           flags: int = 0) -> bytes:
    return HEADER.pack(kind, flags, stream, source, dest, count, seq)


def destination(header_bytes) -> int:
    """The destination task id, read without unpacking the rest (the stmgr's routing key)."""
    return DEST.unpack_from(header_bytes, DEST_OFFSET)[0]


def control(source: int, dest: int, message: dict) -> tuple[bytes, bytes]:
    """A control frame: ``message`` is a msgpack dict with a ``type`` key."""
    return header(Kind.CONTROL, 0, source, dest), msgpack.packb(message)


def read_control(payload) -> dict:
    return msgpack.unpackb(payload, strict_map_key=False)


WATERMARK_VALUE = struct.Struct("<d")


def watermark(source: int, dest: int, value: float) -> tuple[bytes, bytes]:
    """A watermark frame: no tuple with an earlier event time will follow from ``source``."""
    return header(Kind.WATERMARK, 0, source, dest), WATERMARK_VALUE.pack(value)
