"""The libfabric transport: two endpoints in one process (the receiving one driven by a thread,
since progress is manual) and in two processes, over shm and tcp;ofi_rxm."""

import os
import random
import socket
import subprocess
import sys
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path

import pytest
from helpers import provider_params, rdm_providers, subprocess_env

from heronpy.transport.libfabric import FabricUnavailable

try:
    from heronpy.transport.fabric import (
        SEND_IN_PLACE_FROM,
        FabricEndpoint,
        FabricError,
        providers,
    )

    RDM = rdm_providers()
except FabricUnavailable as e:
    pytest.skip(f"libfabric transport unavailable: {e}", allow_module_level=True)

PROVIDERS = provider_params(RDM)
SIZES = [64, 4096, 65536, 1 << 20]
BURST = 1000
WAIT = 30.0  # seconds; generous, but a hang still fails the test


def message(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


def numbered(i: int) -> bytes:
    return i.to_bytes(8, "little") * 4


class Receiver(threading.Thread):
    """Receives ``count`` messages on ``endpoint`` in a thread, after ``delay`` seconds."""

    def __init__(self, endpoint: FabricEndpoint, count: int, delay: float = 0.0):
        super().__init__(daemon=True)
        self.endpoint, self.count, self.delay = endpoint, count, delay
        self.messages = []
        self.start()

    def run(self):
        time.sleep(self.delay)
        for _ in range(self.count):
            data = self.endpoint.recv(WAIT)
            if data is None:
                return
            self.messages.append(data)

    def result(self) -> list[bytes]:
        self.join(WAIT)
        assert not self.is_alive()
        return self.messages


def warm_up_both(a: FabricEndpoint, b: FabricEndpoint, to_b: int, to_a: int) -> None:
    """What two processes do at start-up: each warms its peer up while the other does."""
    other = threading.Thread(target=b.warm_up, args=(to_a,), daemon=True)
    other.start()
    a.warm_up(to_b)
    other.join(WAIT)


@pytest.fixture(params=PROVIDERS)
def pair(request):
    """Two warmed-up endpoints in this process, and the first one's id for the second."""
    with FabricEndpoint(request.param) as a, FabricEndpoint(request.param) as b:
        to_b, to_a = a.connect(b.address), b.connect(a.address)
        warm_up_both(a, b, to_b, to_a)
        yield a, b, to_b


def test_providers_describe_the_machine():
    offered = providers()
    assert {"provider": "shm", "fabric": "shm", "domain": "shm", "endpoint": "rdm"} in offered
    assert all(set(p) == {"provider", "fabric", "domain", "endpoint"} for p in offered)


def test_an_unknown_provider_is_a_clear_error():
    with pytest.raises(FabricError, match=r"no provider 'warp-drive'.*these do: .*shm"):
        FabricEndpoint("warp-drive")


def test_messages_of_every_size_arrive_byte_exact_and_in_order(pair):
    a, b, to_b = pair
    sent = [message(size, seed) for seed, size in enumerate(SIZES + SIZES[::-1] + SIZES)]
    receiver = Receiver(b, len(sent))
    for data in sent:
        a.send(to_b, data)
    a.flush(WAIT)
    assert receiver.result() == sent


def test_a_burst_to_a_slow_receiver_loses_and_reorders_nothing(pair):
    a, b, to_b = pair
    receiver = Receiver(b, BURST, delay=0.3)
    for i in range(BURST):
        a.send(to_b, numbered(i), timeout=WAIT)
    a.flush(WAIT)
    assert receiver.result() == [numbered(i) for i in range(BURST)]


def test_a_large_message_sent_in_place_stays_alive_until_sent(pair):
    """Large messages go from the sender's own memory: the endpoint keeps it alive even when
    the caller lets go of it at once (and the allocator hands it out again)."""
    a, b, to_b = pair
    for seed in range(8):  # one in flight per send buffer
        a.sendv(to_b, [bytearray(message(SEND_IN_PLACE_FROM, seed)), message(1 << 19, seed)])
    clobber = [bytearray(b"\xff" * (1 << 19)) for _ in range(8)]  # reuses what was freed
    receiver = Receiver(b, 8)
    a.flush(WAIT)
    assert receiver.result() == [message(SEND_IN_PLACE_FROM, i) + message(1 << 19, i)
                                 for i in range(8)]
    assert a._in_place == {} and clobber


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_lent_buffer_sent_on_in_place_is_given_back_only_once_sent(provider):
    with FabricEndpoint(provider) as a, FabricEndpoint(provider) as b:
        to_b, to_a = a.connect(b.address), b.connect(a.address)
        warm_up_both(a, b, to_b, to_a)
        data = message(SEND_IN_PLACE_FROM, 1)
        a.send(to_b, data)
        receiver = Receiver(a, 1)  # drives a's progress
        lent = b.recv(WAIT, copy=False)
        b.send(to_a, lent)  # from b's receive buffer
        with pytest.raises(BufferError):
            b.give_back(lent)
        b.flush(WAIT)
        assert receiver.result() == [data]
        b.give_back(lent)  # still lent after the refusal; now sent
        a.flush(WAIT)


def test_recv_without_copy_lends_the_buffers_until_given_back(pair):
    a, b, to_b = pair
    sent = [numbered(i) for i in range(9)]  # one more than b has receive buffers
    for data in sent:
        a.send(to_b, data)
    a.flush(WAIT)
    lent = [b.recv(WAIT, copy=False) for _ in range(8)]
    assert all(isinstance(view, memoryview) for view in lent) and lent == sent[:8]
    assert b.recv(0.2) is None  # every buffer lent: the last message waits
    b.give_back(lent[0])
    with pytest.raises(ValueError, match="released"):
        bytes(lent[0])
    assert b.recv(WAIT) == sent[8]
    assert lent[1:] == sent[1:8]  # still lent, still intact
    with pytest.raises(ValueError, match="give_back takes a memoryview"):
        b.give_back(memoryview(sent[1]))


def test_recv_times_out_in_time(pair):
    _, b, _ = pair
    started = time.monotonic()
    assert b.recv(0) is None
    assert time.monotonic() - started < 0.1
    started = time.monotonic()
    assert b.recv(0.2) is None
    assert 0.2 <= time.monotonic() - started < 0.5


def test_message_size_limits(pair):
    a, _, to_b = pair
    with pytest.raises(ValueError, match=r"max_message.*split"):
        a.send(to_b, bytes(a.max_message + 1))
    with pytest.raises(ValueError, match="1 to"):
        a.send(to_b, b"")


@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_largest_message_fits(provider):
    with FabricEndpoint(provider, max_message=5000) as a, \
            FabricEndpoint(provider, max_message=5000) as b:
        to_b = a.connect(b.address)
        b.connect(a.address)
        receiver = Receiver(b, 1)
        a.send(to_b, message(5000, 1))
        a.flush(WAIT)
        assert receiver.result() == [message(5000, 1)]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_close_releases_everything(provider):
    def shm_segments():  # shm names its segments <pid>:...
        return sorted(n for n in os.listdir("/dev/shm") if n.startswith(f"{os.getpid()}:"))

    def fds():
        return sorted(os.listdir("/proc/self/fd"))

    before = fds(), shm_segments()
    for _ in range(3):
        with FabricEndpoint(provider) as a, FabricEndpoint(provider) as b:
            to_b = a.connect(b.address)
            b.connect(a.address)
            receiver = Receiver(b, 1)
            a.send(to_b, b"x" * 100)
            a.flush(WAIT)
            assert receiver.result() == [b"x" * 100]
        assert (fds(), shm_segments()) == before
    a.close()  # again: nothing happens
    with pytest.raises(ValueError, match="closed"):
        a.send(to_b, b"late")


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_provider_asking_for_registered_buffers_gets_them(provider, monkeypatch):
    """No provider here needs FI_MR_LOCAL (verbs does): force the registration path."""
    monkeypatch.setattr(FabricEndpoint, "_needs_local_mr", lambda self, info: True)
    with FabricEndpoint(provider) as a, FabricEndpoint(provider) as b:
        assert a._desc[0] != a._ffi.NULL
        to_b = a.connect(b.address)
        b.connect(a.address)
        sent = [message(size, size) for size in SIZES]
        receiver = Receiver(b, len(sent))
        for data in sent:
            a.send(to_b, data)
        a.flush(WAIT)
        assert receiver.result() == sent


@pytest.mark.parametrize("provider", PROVIDERS)
def test_only_tcp_offers_a_file_descriptor(provider):
    with FabricEndpoint(provider) as ep:
        assert (ep.fileno() is not None) == (provider == "tcp;ofi_rxm")


@pytest.mark.parametrize("provider", PROVIDERS)
def test_endpoints_that_talk_must_agree_on_the_largest_message(provider):
    with FabricEndpoint(provider, max_message=8192) as a, \
            FabricEndpoint(provider, max_message=4096) as b:
        with pytest.raises(ValueError, match="max_message is 4096, this endpoint's 8192"):
            a.connect(b.address)
        with pytest.raises(ValueError, match="not a fabric endpoint address"):
            a.connect(b"\0" * 8)


def claiming(address: bytes, max_message: int) -> bytes:
    """``address`` with another max_message (an address starts with it, 8 bytes)."""
    return max_message.to_bytes(8, "little") + address[8:]


@pytest.mark.skipif("tcp;ofi_rxm" not in RDM, reason="no tcp;ofi_rxm provider here")
def test_a_failed_receive_is_a_fabric_error():
    """A message larger than the receive buffers (a forged address gets past connect's check;
    only tcp;ofi_rxm reports it, shm hangs in fi_cq_read) fails the receive."""
    with FabricEndpoint("tcp;ofi_rxm", max_message=8192) as a, \
            FabricEndpoint("tcp;ofi_rxm", max_message=4096) as b:
        to_b = a.connect(claiming(b.address, max_message=8192))
        to_a = b.connect(claiming(a.address, max_message=4096))
        warm_up_both(a, b, to_b, to_a)
        a.send(to_b, bytes(8192))
        with pytest.raises(FabricError, match=r"a receive failed: Truncation error \(tcp;ofi_rxm") \
                as failure:
            b.recv(WAIT)
        assert failure.value.code > 0


def echo_then_count(provider: str, fd: int) -> None:
    """The peer process: echoes ``len(SIZES) * 2`` messages, then (after sleeping, so that the
    burst piles up) receives a burst and reports what it got through the connection ``fd``."""
    conn = Connection(fd)
    with FabricEndpoint(provider) as ep:
        conn.send(ep.address)
        peer = ep.connect(conn.recv())
        ep.warm_up(peer)
        for _ in range(len(SIZES) * 2):
            ep.send(peer, ep.recv(WAIT))
        ep.flush(WAIT)
        burst = conn.recv()
        time.sleep(0.5)
        got = [ep.recv(WAIT) for _ in range(burst)]
        conn.send([int.from_bytes(m[:8], "little") if m else None for m in got])
        conn.recv()  # the parent is done: closing now loses nothing


@pytest.mark.parametrize("provider", PROVIDERS)
def test_two_processes(provider):
    ours, theirs = socket.socketpair()
    env = subprocess_env()
    env["PYTHONPATH"] = os.pathsep.join((str(Path(__file__).parent), env["PYTHONPATH"]))
    code = f"import test_fabric; test_fabric.echo_then_count({provider!r}, {theirs.fileno()})"
    child = subprocess.Popen([sys.executable, "-c", code], pass_fds=[theirs.fileno()], env=env)
    theirs.close()
    conn = Connection(ours.detach())
    try:
        with FabricEndpoint(provider) as ep:
            assert conn.poll(WAIT)
            peer = ep.connect(conn.recv())
            conn.send(ep.address)
            ep.warm_up(peer, timeout=WAIT)
            sent = [message(size, seed) for seed, size in enumerate(SIZES + SIZES[::-1])]
            for data in sent:
                ep.send(peer, data)
            assert [ep.recv(WAIT) for _ in sent] == sent
            burst = 5 * BURST  # more than shm's 1024-entry queue: the sender must wait
            conn.send(burst)
            for i in range(burst):
                ep.send(peer, numbered(i), timeout=WAIT)
            ep.flush(WAIT)
            assert conn.poll(WAIT)
            assert conn.recv() == list(range(burst))
            conn.send("done")
        assert child.wait(WAIT) == 0
    finally:
        conn.close()
        if child.poll() is None:
            child.kill()
            child.wait()
