"""heronpy's libfabric transport on this host: one-way latency and throughput, next to
libfabric's own ``fi_pingpong`` measured in the same run, and the floor of any Python code on
libfabric (``floor``: no endpoint logic in the loop).

    python -m benchmarks.fabric_pingpong [--providers shm "tcp;ofi_rxm"] [--iterations 5000]

Two processes (this one and an echo peer it starts), busy polling. Latency is half the round
trip of a ping-pong, p50 and p99 over ``--iterations`` (a tenth of that for 1 MiB) after 100
unmeasured ones; both sides receive with ``copy=False`` and send as ``FabricEndpoint`` does
(copied into a send buffer; in place from ``SEND_IN_PLACE_FROM``). Throughput streams 64 KiB
messages one way until the peer acknowledges the last (median of 3 runs of 128 MiB). The floor
is the 64 B ping-pong again, Python calling nothing but ``fi_send``, ``fi_recv`` and
``fi_cq_read``. ``fi_pingpong`` (libfabric-bin) runs as a server and a client process per size;
it reports the mean one-way time and, from the ping-pong, MB/s.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import statistics
import subprocess
import sys
import time
from multiprocessing.connection import Connection

from heronpy.transport.fabric import FabricEndpoint

SIZES = [64, 4096, 65536, 1 << 20]
STREAM_SIZE = 65536
STREAM_BYTES = 128 << 20
WAIT = 30.0


def label(size: int) -> str:
    return f"{size >> 20} MiB" if size >= 1 << 20 else f"{size >> 10} KiB" if size >= 1024 \
        else f"{size} B"


def peer(provider: str, fd: int) -> None:
    """The echo peer: serves ("echo", n) and ("sink", n) requests, then ("floor", n), the last."""
    conn = Connection(fd)
    with FabricEndpoint(provider) as ep:
        conn.send(ep.address)
        other = ep.connect(conn.recv())
        ep.warm_up(other)
        while True:
            what, count = conn.recv()
            if what == "floor":
                floor(ep, other, count, echo=True)
                return  # the endpoint is fit only for closing now
            for _ in range(count):
                data = ep.recv(WAIT, copy=False)
                if what == "echo":
                    ep.send(other, data)
                    ep.flush(WAIT)  # a large message goes from the buffer: sent before it is back
                ep.give_back(data)
            if what == "sink":
                ep.send(other, b"done")
            ep.flush(WAIT)


def measure(provider: str, iterations: int) -> dict:
    ours, theirs = socket.socketpair()
    child = subprocess.Popen([sys.executable, "-m", "benchmarks.fabric_pingpong", "--peer",
                              provider, str(theirs.fileno())], pass_fds=[theirs.fileno()])
    theirs.close()
    conn = Connection(ours.detach())
    result = {}
    try:
        with FabricEndpoint(provider) as ep:
            if not conn.poll(WAIT):
                raise RuntimeError(f"the {provider} peer did not start")
            other = ep.connect(conn.recv())
            conn.send(ep.address)
            conn.send(("echo", 1))
            started = time.perf_counter()
            ep.warm_up(other)  # while the peer warms up too
            result["warm_up_ms"] = (time.perf_counter() - started) * 1e3
            started = time.perf_counter()
            ep.send(other, bytes(64))
            ep.recv(WAIT)
            result["first_us"] = (time.perf_counter() - started) * 1e6
            for size in SIZES:
                count = iterations // 10 if size >= 1 << 20 else iterations
                result[size] = ping_pong(ep, other, conn, size, count)
            result["stream"] = statistics.median(stream(ep, other, conn) for _ in range(3))
            ep.flush(WAIT)
            conn.send(("floor", iterations + 100))
            halves = floor(ep, other, iterations + 100, echo=False)[100:]
            result["floor"] = statistics.median(halves), statistics.quantiles(halves, n=100)[98]
        child.wait(WAIT)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    return result


def ping_pong(ep: FabricEndpoint, other: int, conn: Connection, size: int,
              count: int) -> tuple[float, float]:
    """p50 and p99 of the half round trip, in microseconds."""
    data = bytes(size)
    conn.send(("echo", count + 100))
    for _ in range(100):
        ep.send(other, data)
        ep.give_back(ep.recv(WAIT, copy=False))
    halves = []
    for _ in range(count):
        started = time.perf_counter_ns()
        ep.send(other, data)
        ep.give_back(ep.recv(WAIT, copy=False))
        halves.append((time.perf_counter_ns() - started) / 2000)
    cuts = statistics.quantiles(halves, n=100)
    return cuts[49], cuts[98]


def stream(ep: FabricEndpoint, other: int, conn: Connection) -> float:
    """Bytes per second of 64 KiB messages sent one way, acknowledged at the end."""
    data, count = bytes(STREAM_SIZE), STREAM_BYTES // STREAM_SIZE
    conn.send(("sink", count))
    started = time.perf_counter()
    for _ in range(count):
        ep.send(other, data)
    assert ep.recv(WAIT) == b"done"
    return STREAM_BYTES / (time.perf_counter() - started)


def floor(ep: FabricEndpoint, other: int, count: int, echo: bool) -> list[float]:
    """Half round trips (µs) of 64 B messages when Python calls only ``fi_send``, ``fi_recv``
    and ``fi_cq_read`` through heronpy's binding, on ``ep``'s buffers: the least any Python
    code on libfabric can cost. ``echo``: answer each message instead of starting it. Uses the
    endpoint's insides and leaves it fit only for ``close``."""
    lib = ep._lib
    endpoint, cq, entries, batch = ep._ep, ep._cq, ep._entries, len(ep._entries)
    receives = {ep._context[b]: (ep._pointer[b], ep._desc[b]) for b in ep._posted}
    sending = ep._free[-1]
    out, desc, context = ep._pointer[sending], ep._desc[sending], ep._context[sending]
    in_flight = False

    def send() -> None:
        nonlocal in_flight
        while lib.fi_send(endpoint, out, 64, desc, other, context) == -lib.FI_EAGAIN:
            lib.fi_cq_read(cq, entries, 0)
        in_flight = True

    def receive() -> None:
        """Until a message has come (its buffer is posted again) and no send is in flight."""
        nonlocal in_flight
        received = False
        while not received or in_flight:
            for i in range(max(lib.fi_cq_read(cq, entries, batch), 0)):
                done = entries[i].op_context
                if done == context:
                    in_flight = False
                else:
                    buffer, buffer_desc = receives[done]
                    lib.fi_recv(endpoint, buffer, ep.max_message, buffer_desc,
                                lib.FI_ADDR_UNSPEC, done)
                    received = True

    halves = []
    for _ in range(count):
        started = time.perf_counter_ns()
        if echo:
            receive()
        send()
        if not echo:
            receive()
        halves.append((time.perf_counter_ns() - started) / 2000)
    return halves


def fi_pingpong(provider: str, size: int, iterations: int) -> tuple[float, float] | None:
    """fi_pingpong's (one-way µs, MB/s) for ``size``, or None if it is not installed."""
    if shutil.which("fi_pingpong") is None:
        return None
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = str(s.getsockname()[1])
    common = ["fi_pingpong", "-p", provider, "-e", "rdm", "-S", str(size), "-I",
              str(iterations)]
    server = subprocess.Popen([*common, "-B", port], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        for _ in range(50):  # until the server listens
            client = subprocess.run([*common, "-P", port, "127.0.0.1"], capture_output=True,
                                    text=True, timeout=120)
            if client.returncode == 0:
                break
            time.sleep(0.1)
        else:
            return None
    finally:
        server.wait(WAIT)
    fields = client.stdout.splitlines()[-1].split()  # bytes #sent #ack total time MB/s us/xfer
    return float(fields[6]), float(fields[5])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--providers", nargs="+", default=["shm", "tcp;ofi_rxm"])
    parser.add_argument("--iterations", type=int, default=5000)
    parser.add_argument("--peer", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peer:
        peer(args.peer[0], int(args.peer[1]))
        return
    print(f"{'provider':<12} {'size':>7} {'heronpy p50':>12} {'p99':>8} {'fi_pingpong':>12}  (µs, "
          f"one-way)")
    for provider in args.providers:
        ours = measure(provider, args.iterations)
        theirs = {}
        for size in SIZES:
            count = args.iterations // 10 if size >= 1 << 20 else args.iterations
            theirs[size] = fi_pingpong(provider, size, count)
        for size in SIZES:
            p50, p99 = ours[size]
            reference = f"{theirs[size][0]:12.2f}" if theirs[size] else f"{'-':>12}"
            print(f"{provider:<12} {label(size):>7} {p50:12.2f} {p99:8.2f} {reference}")
        ping = STREAM_SIZE / ours[STREAM_SIZE][0] / 1e3
        reference = f", fi_pingpong {theirs[STREAM_SIZE][1] / 1e3:.2f}" \
            if theirs[STREAM_SIZE] else ""
        print(f"{provider:<12} 64 KiB throughput GB/s: heronpy streaming "
              f"{ours['stream'] / 1e9:.2f}, heronpy ping-pong {ping:.2f}{reference}")
        print(f"{provider:<12} warm_up {ours['warm_up_ms']:.1f} ms, then first 64 B round trip "
              f"{ours['first_us']:.0f} µs")
        print(f"{provider:<12} floor (Python calling fi_send / fi_recv / fi_cq_read alone), 64 B: "
              f"p50 {ours['floor'][0]:.2f} µs, p99 {ours['floor'][1]:.2f}")


if __name__ == "__main__":
    main()
