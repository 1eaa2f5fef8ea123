"""Shared-memory segments for large buffers (transport/shm.py), one process playing both
sides: what arrives is what was sent, a segment is reused once read, a sender out of room
hands nothing over (the frame goes inline), and nothing stays in /dev/shm."""

import glob
import os
import subprocess
import sys

import numpy as np
import pytest

from heronpy.transport.shm import (
    SharedInbox,
    SharedOutbox,
    domain,
    remove_segments,
    remove_stale_segments,
)

pytestmark = pytest.mark.skipif(domain() is None, reason="no /dev/shm on this machine")


def segments() -> set[str]:
    return {f for f in os.listdir("/dev/shm") if f.startswith(f"heronpy-{os.getpid()}-")}


@pytest.fixture
def sides():
    outbox, inbox = SharedOutbox(budget=4 << 20), SharedInbox()
    yield outbox, inbox
    outbox.close()
    inbox.close()
    assert not segments()


def test_buffers_arrive_as_they_were_sent(sides):
    outbox, inbox = sides
    arrays = [np.arange(100_000, dtype=np.float64), np.arange(7, dtype=np.int32).reshape(7, 1)]
    descriptors = outbox.put(arrays)
    assert all(len(d) < 100 for d in descriptors)
    for array, descriptor in zip(arrays, descriptors, strict=True):
        data = inbox.take(descriptor)
        np.testing.assert_array_equal(np.frombuffer(data, array.dtype).reshape(array.shape),
                                      array)


def test_a_segment_is_reused_once_read_and_not_before(sides):
    outbox, inbox = sides
    first = outbox.put([b"a" * 70_000])[0]
    second = outbox.put([b"b" * 70_000])[0]
    assert first[8:] != second[8:]  # the first is not read yet: another segment
    assert inbox.take(first) == b"a" * 70_000
    third = outbox.put([b"c" * 1000])[0]
    assert third[8:] == first[8:] and inbox.take(third) == b"c" * 1000
    assert inbox.take(second) == b"b" * 70_000
    with pytest.raises(ValueError, match="holds no buffer"):
        inbox.take(second)  # read twice


def test_without_room_nothing_is_held_and_the_frame_goes_inline(sides):
    outbox, inbox = sides
    held = outbox.put([bytes(2 << 20)])  # of a budget of 4 MiB
    assert outbox.put([bytes(1 << 20), bytes(2 << 20)]) is None  # 1 fits, 2 do not: none kept
    assert len(segments()) == 2
    inbox.take(held[0])
    both = outbox.put([bytes(1 << 20), bytes(2 << 20)])
    assert len(segments()) == 2  # the two free segments, the 1 MiB one released above
    assert [len(inbox.take(d)) for d in both] == [1 << 20, 2 << 20]


def test_names_outside_heronpy_segments_are_refused(sides):
    _, inbox = sides
    with pytest.raises(ValueError, match="not a heronpy segment"):
        inbox.take((8).to_bytes(8, "little") + b"heronpy-../../etc/passwd")


def test_the_segments_of_a_dead_sender_are_removed_by_pid():
    outbox = SharedOutbox(budget=1 << 20)
    descriptor = outbox.put([bytes(50_000)])[0]
    assert len(segments()) == 1
    remove_segments(os.getpid())  # what the executor does when a task dies
    assert not segments()
    with pytest.raises(FileNotFoundError):
        SharedInbox().take(descriptor)
    outbox.close()  # already gone: no error


def test_the_segments_of_processes_that_are_gone_are_swept():
    """An executor starting sweeps what containers killed with their executor left."""
    child = subprocess.run([sys.executable, "-c", """
from heronpy.transport.shm import SharedOutbox
import os
SharedOutbox(1 << 20).put([bytes(50_000)])
print(os.getpid())
os._exit(0)  # no clean-up, as under SIGKILL
"""], capture_output=True, text=True, check=True)
    left = glob.glob(f"/dev/shm/heronpy-{child.stdout.strip()}-*")
    assert len(left) == 1
    mine = SharedOutbox(budget=1 << 20)
    mine.put([bytes(50_000)])
    remove_stale_segments()
    assert not os.path.exists(left[0])
    assert len(segments()) == 1  # a live process's segments stay
    mine.close()
