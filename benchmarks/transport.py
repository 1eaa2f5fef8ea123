"""The hop between two stream managers: one-way latency (p50, p99) and throughput per frame
size, over ZeroMQ tcp and over libfabric (tcp;ofi_rxm, shm), next to raw pyzmq, raw Unix
datagrams, heronpy's FabricEndpoint alone and libfabric's own fi_pingpong measured in the same
run.

    python -m benchmarks.transport [--quick] [--runs 3] [--out benchmarks/results]

heronpy: two real stream manager processes (containers 0 and 1); this process plays the
topology master and three tasks: task 1 (container 0) sends frames (a 24-byte header and a
payload of the given size), task 2 (container 1) receives them, so every frame goes task ->
stmgr 0 -> stmgr 1 -> task: two ipc legs and the hop measured. Task 3 (container 0) receives the
same frames without the hop (task -> stmgr 0 -> task): the difference is what the hop costs.
Latency: one frame at a time, its one-way time from send to arrival (same process, one
clock), after unmeasured warm-up frames. Throughput: frames streamed as fast as the stream
managers take them (their queues apply backpressure), payload bytes over the time to the last
arrival. Every frame received is checked (destination, sequence, size and content) before a
figure counts.

heronpy's FabricEndpoint alone (benchmarks/fabric_pingpong.py): half a round trip between two
processes that only call it, busy polling, for the sizes both benchmarks have (64 B, 64 KiB,
1 MiB). The Python floor: the same at 64 B with Python calling nothing but fi_send, fi_recv and
fi_cq_read through the binding, the least any Python code on libfabric can cost here.

Raw pyzmq: PUSH/PULL over tcp, and over ipc (the leg between a task and its stream manager),
to an echo process: latency is half a round trip, throughput a stream to a sink that answers
at the end. Raw Unix datagrams (what transport/direct.py sends between the tasks of a host):
half a round trip to an echo process, frames up to one datagram. fi_pingpong (libfabric-bin):
its mean one-way time (in the p50 column) and the MB/s of its ping-pong (one message at a
time), per provider. All are one hop between two processes, without any stream manager.

Frames here are what a stream manager sees: one per batch of tuples in a topology. Small ones
stream slowly because the stream managers' queues hold ``heronpy.queue.frames`` (8) frames,
whatever their size.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import msgpack
import zmq

from benchmarks.fabric_pingpong import fi_pingpong, label
from benchmarks.fabric_pingpong import measure as endpoint_ping_pong
from benchmarks.suite import Result
from heronpy.runtime.launcher import child_environment
from heronpy.transport import direct, zeromq
from heronpy.transport.frame import HEADER, Kind, control, header
from heronpy.transport.libfabric import FabricError, FabricUnavailable

SIZES = [64, 1024, 16384, 65536, 262144, 1 << 20]
QUICK_SIZES = [64, 65536, 1 << 20]
HOPS = {"zmq": ("zmq", ""), "fabric tcp;ofi_rxm": ("fabric", "tcp;ofi_rxm"),
        "fabric shm": ("fabric", "shm")}
SENDER, RECEIVER, LOCAL = 1, 2, 3  # tasks: RECEIVER is across the hop, LOCAL is not
WARM_UP = 100
WAIT = 30.0


def latency_count(size: int, quick: bool) -> int:
    return (50 if size >= 1 << 20 else 300) if quick else (200 if size >= 1 << 20 else 2000)


def stream_count(size: int, quick: bool) -> int:
    """Frames streamed: about 16 MiB (quick) or 64 MiB, between 200 and 20,000 frames."""
    return max(200, min(20_000, (16 if quick else 64) * 2**20 // size))


def payload(size: int) -> bytes:
    return bytes((i * 7 + size) % 251 for i in range(size))


class Hop:
    """Two stream manager processes around this one (see the module's docstring); use as a
    context manager, which shuts them down."""

    def __init__(self, transport: str, provider: str):
        self._ctx = zmq.Context()
        self._dir = tempfile.mkdtemp(prefix="heronpy-hop-")
        ipc = {name: zeromq.ipc_endpoint(self._dir, name)
               for name in ("stmgr-0", "stmgr-1", "spouts-0", "spouts-1", *map(str, range(1, 4)))}
        os.mkdir(os.path.join(self._dir, "sock"))
        self._master = self._ctx.socket(zmq.ROUTER)
        self._master.linger = 0
        self._master.bind("tcp://127.0.0.1:*")
        self._tasks = {}
        for task in (SENDER, RECEIVER, LOCAL):
            sock = self._tasks[task] = self._ctx.socket(zmq.PULL)
            sock.linger = 0
            sock.bind(ipc[str(task)])
        owners = {SENDER: 0, RECEIVER: 1, LOCAL: 0}
        self._procs = []
        for container in (0, 1):
            settings = {
                "inbox": ipc[f"stmgr-{container}"], "spout_inbox": ipc[f"spouts-{container}"],
                "host": "127.0.0.1", "task_containers": owners,
                "tasks": {t: ipc[str(t)] for t, c in owners.items() if c == container},
                "tmaster": self._master.last_endpoint.decode(), "start_timeout": WAIT,
                "queue_frames": 8, "message_timeout": None, "spout_tasks": [SENDER],
                "transport": transport, "fabric_provider": provider}
            with open(os.path.join(self._dir, f"stmgr-{container}.log"), "wb") as log:
                self._procs.append(subprocess.Popen(
                    [sys.executable, "-m", "heronpy.stmgr", str(container), json.dumps(settings)],
                    env=child_environment(), stdout=log, stderr=subprocess.STDOUT))
        # the sender is a spout: its stream manager stops reading it while the hop is full
        self._inboxes = []
        for endpoint in (ipc["spouts-0"], ipc["stmgr-1"]):
            sock = self._ctx.socket(zmq.PUSH)
            sock.linger = 0
            sock.connect(endpoint)
            self._inboxes.append(sock)
        for task, owner in owners.items():
            self._inboxes[owner].send_multipart(control(task, 0, {"type": "hello", "task": task}))
        try:
            self._start()
        except BaseException:
            self.__exit__()
            raise

    def _start(self) -> None:
        """Plays the master until both stream managers have registered, then waits until each
        task has been told to start."""
        endpoints = {}
        deadline = time.monotonic() + WAIT
        while len(endpoints) < 2:
            if not self._master.poll(max(0.0, deadline - time.monotonic()) * 1000):
                raise TimeoutError("the stream managers did not register")
            _, data = self._master.recv_multipart()
            message = msgpack.unpackb(data, strict_map_key=False)
            if message["type"] == "process_exit":
                raise RuntimeError(message["what"])
            if message["type"] == "register_stmgr":
                endpoints[message["container"]] = message["endpoint"]
        for container in endpoints:
            self._master.send_multipart([f"stmgr-{container}".encode(), msgpack.packb(
                {"type": "plan", "endpoints": endpoints})])
        for sock in self._tasks.values():
            self._receive(sock, lambda frames: frames[0].buffer[0] == Kind.CONTROL)

    def _receive(self, sock: zmq.Socket, wanted: Callable[[list], bool]) -> list:
        """The next message on ``sock`` that is ``wanted`` (others: control frames, skipped)."""
        deadline = time.monotonic() + WAIT
        while True:
            if not sock.poll(max(0.0, deadline - time.monotonic()) * 1000):
                raise TimeoutError("a frame did not arrive")
            frames = sock.recv_multipart(copy=False)
            if wanted(frames):
                return frames

    def latency(self, to: int, size: int, count: int) -> list[float]:
        """One-way times of ``count`` frames to task ``to``, in microseconds."""
        data, sock, times = payload(size), self._tasks[to], []
        for seq in range(WARM_UP + count):
            started = time.perf_counter_ns()
            self._inboxes[0].send_multipart([header(Kind.DATA, 0, SENDER, to, 1, seq), data],
                                            copy=False)
            frames = self._receive(sock, _is_data)
            arrived = time.perf_counter_ns()
            _check(frames, to, seq, data)
            if seq >= WARM_UP:
                times.append((arrived - started) / 1000)
        return times

    def throughput(self, to: int, size: int, count: int) -> float:
        """Payload bytes per second of ``count`` frames streamed to task ``to``."""
        data, sock = payload(size), self._tasks[to]
        failure: list[BaseException] = []
        last = [0.0]

        def receive() -> None:
            try:
                for seq in range(count):
                    _check(self._receive(sock, _is_data), to, seq, data)
                last[0] = time.perf_counter()
            except BaseException as err:  # reported by the sending thread
                failure.append(err)

        receiver = threading.Thread(target=receive)
        started = time.perf_counter()
        receiver.start()
        for seq in range(count):
            self._inboxes[0].send_multipart([header(Kind.DATA, 0, SENDER, to, 1, seq), data],
                                            copy=False)
        receiver.join(WAIT * 4)
        if failure or receiver.is_alive():
            raise RuntimeError(f"the stream did not arrive intact: {failure or 'timed out'}")
        return count * size / (last[0] - started)

    def __enter__(self) -> Hop:
        return self

    def __exit__(self, *exc) -> None:
        for container in (0, 1):
            self._master.send_multipart([f"stmgr-{container}".encode(),
                                         msgpack.packb({"type": "shutdown"})])
        for proc in self._procs:
            try:
                proc.wait(WAIT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._ctx.destroy(linger=0)
        shutil.rmtree(self._dir, ignore_errors=True)


def _is_data(frames: list) -> bool:
    return frames[0].buffer[0] == Kind.DATA


def _check(frames: list, to: int, seq: int, data: bytes) -> None:
    """Raises unless ``frames`` is the data frame ``seq`` for task ``to``, byte for byte
    (compared as bytes: a memoryview compares item by item, ~270 µs for 64 KiB here)."""
    _, _, _, source, dest, _, got_seq = HEADER.unpack(frames[0].buffer)
    if (len(frames), source, dest, got_seq) != (2, SENDER, to, seq) or frames[1].bytes != data:
        raise RuntimeError(f"frame {seq}: got {len(frames)} parts, task {source} -> {dest}, "
                           f"sequence {got_seq}, {len(frames[1])} of {len(data)} bytes")


# -- raw pyzmq: an echo / sink process --------------------------------------------------------

def zmq_peer(inbound: str, outbound: str) -> None:
    """The peer process: serves [mode, count] requests ("echo": send each message back;
    "sink": answer once all have come) until an empty request."""
    ctx = zmq.Context()
    pull, push = ctx.socket(zmq.PULL), ctx.socket(zmq.PUSH)
    pull.connect(inbound)
    push.connect(outbound)
    while request := msgpack.unpackb(pull.recv()):
        mode, count = request
        for _ in range(count):
            message = pull.recv(copy=False)
            if mode == "echo":
                push.send(message, copy=False)
        if mode == "sink":
            push.send(b"done")
    ctx.destroy(linger=0)


class RawZmq:
    """PUSH/PULL between this process and a zmq_peer process, over ``tcp`` or ``ipc``."""

    def __init__(self, transport: str = "tcp"):
        self._ctx = zmq.Context()
        self._dir = tempfile.mkdtemp(prefix="heronpy-raw-")
        self._push, self._pull = self._ctx.socket(zmq.PUSH), self._ctx.socket(zmq.PULL)
        for sock, name in ((self._push, "out"), (self._pull, "in")):
            sock.bind("tcp://127.0.0.1:*" if transport == "tcp" else f"ipc://{self._dir}/{name}")
        self._peer = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.transport", "--zmq-peer",
             self._push.last_endpoint.decode(), self._pull.last_endpoint.decode()],
            env=child_environment())

    def _recv(self) -> zmq.Frame:
        if not self._pull.poll(WAIT * 1000):
            raise TimeoutError("the zmq peer did not answer")
        return self._pull.recv(copy=False)

    def latency(self, size: int, count: int) -> list[float]:
        data = payload(size)
        self._push.send(msgpack.packb(["echo", WARM_UP + count]))
        halves = []
        for i in range(WARM_UP + count):
            started = time.perf_counter_ns()
            self._push.send(data, copy=False)
            echoed = self._recv()
            if i >= WARM_UP:
                halves.append((time.perf_counter_ns() - started) / 2000)
            if echoed.bytes != data:
                raise RuntimeError(f"the zmq peer echoed {len(echoed)} of {size} bytes wrong")
        return halves

    def throughput(self, size: int, count: int) -> float:
        data = payload(size)
        self._push.send(msgpack.packb(["sink", count]))
        started = time.perf_counter()
        for _ in range(count):
            self._push.send(data, copy=False)
        if self._recv().bytes != b"done":
            raise RuntimeError("the zmq sink did not take the stream")
        return count * size / (time.perf_counter() - started)

    def __enter__(self) -> RawZmq:
        return self

    def __exit__(self, *exc) -> None:
        self._push.send(msgpack.packb([]))
        _stop(self._peer)
        self._ctx.destroy(linger=0)
        shutil.rmtree(self._dir, ignore_errors=True)


# -- raw Unix datagrams (what transport/direct.py uses between tasks): an echo process --------

def datagram_peer(inbound: str, outbound: str) -> None:
    """The peer process: binds ``inbound``, says so, then sends back every datagram until an
    empty one."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(inbound)
        sock.sendto(b"ready", outbound)
        while data := sock.recv(direct.CHUNK):
            sock.sendto(data, outbound)


class RawDatagram:
    """Unix datagrams between this process and a datagram_peer process: latency only, of
    frames up to ``direct.CHUNK`` bytes (what one datagram of transport/direct.py carries)."""

    def __init__(self):
        self._dir = tempfile.mkdtemp(prefix="heronpy-raw-")
        self._peer_path, own = os.path.join(self._dir, "peer"), os.path.join(self._dir, "own")
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.bind(own)
        self._sock.settimeout(WAIT)
        self._peer = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.transport", "--datagram-peer", self._peer_path,
             own], env=child_environment())
        if self._sock.recv(16) != b"ready":
            raise RuntimeError("the datagram peer did not start")

    def latency(self, size: int, count: int) -> list[float]:
        data, halves = payload(size), []
        for i in range(WARM_UP + count):
            started = time.perf_counter_ns()
            self._sock.sendto(data, self._peer_path)
            echoed = self._sock.recv(direct.CHUNK)
            if i >= WARM_UP:
                halves.append((time.perf_counter_ns() - started) / 2000)
            if echoed != data:
                raise RuntimeError(f"the datagram peer echoed {len(echoed)} of {size} bytes wrong")
        return halves

    def __enter__(self) -> RawDatagram:
        return self

    def __exit__(self, *exc) -> None:
        self._sock.sendto(b"", self._peer_path)
        _stop(self._peer)
        self._sock.close()
        shutil.rmtree(self._dir, ignore_errors=True)


def _stop(peer: subprocess.Popen) -> None:
    try:
        peer.wait(WAIT)
    except subprocess.TimeoutExpired:
        peer.kill()
        peer.wait()


# -- the run ----------------------------------------------------------------------------------

def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1]


def measure_once(quick: bool, sizes: list[int]) -> dict[tuple[str, int], dict[str, float]]:
    """One run of every system and size: {(system, size): {"p50", "p99" (µs), "MBps"}}."""
    out: dict[tuple[str, int], dict[str, float]] = {}
    for name, (transport, provider) in HOPS.items():
        try:
            hop = Hop(transport, provider)
        except (RuntimeError, TimeoutError, FabricUnavailable) as err:
            print(f"heronpy hop over {name}: skipped ({err})", file=sys.stderr)
            continue
        with hop:
            for size in sizes:
                for system, to in ((f"heronpy hop, {name}", RECEIVER),
                                   ("heronpy, same container (no hop)", LOCAL)):
                    if to == LOCAL and transport != "zmq":
                        continue  # the same path whatever the hop's transport
                    times = hop.latency(to, size, latency_count(size, quick))
                    out[system, size] = {
                        "p50": percentile(times, 50), "p99": percentile(times, 99),
                        "MBps": hop.throughput(to, size, stream_count(size, quick)) / 1e6}
    for transport in ("tcp", "ipc"):
        with RawZmq(transport) as raw:
            for size in sizes:
                halves = raw.latency(size, latency_count(size, quick))
                out[f"raw pyzmq {transport}, one hop", size] = {
                    "p50": percentile(halves, 50), "p99": percentile(halves, 99),
                    "MBps": raw.throughput(size, stream_count(size, quick)) / 1e6}
    with RawDatagram() as raw:
        for size in (s for s in sizes if s <= direct.CHUNK):
            halves = raw.latency(size, latency_count(size, quick))
            out["raw Unix datagram, one hop", size] = {
                "p50": percentile(halves, 50), "p99": percentile(halves, 99)}
    for provider in ("tcp;ofi_rxm", "shm"):
        try:
            alone = endpoint_ping_pong(provider, latency_count(64, quick))
        except (FabricUnavailable, FabricError, RuntimeError) as err:
            print(f"FabricEndpoint over {provider}: skipped ({err})", file=sys.stderr)
            alone = {}
        for size in (s for s in sizes if s in alone):
            p50, p99 = alone[size]
            out[f"heronpy FabricEndpoint alone {provider}, one hop (Python, no stmgr)", size] = {
                "p50": p50, "p99": p99}
        if "floor" in alone and 64 in sizes:
            p50, p99 = alone["floor"]
            out[f"Python floor {provider}: fi_send / fi_cq_read calls alone, one hop", 64] = {
                "p50": p50, "p99": p99}
        for size in sizes:
            got = fi_pingpong(provider, size, latency_count(size, quick) * 5)
            if got is not None:  # its mean one-way time, and MB/s from the ping-pong
                out[f"fi_pingpong {provider}, one hop (mean; MB/s of its ping-pong)", size] = {
                    "p50": got[0], "MBps": got[1]}
    return out


def measure(quick: bool = False, peers: bool = False, runs: int | None = None,
            sizes: list[int] | None = None) -> Result:
    """For the suite (and main): every figure once per run. ``peers`` changes nothing: raw
    pyzmq and fi_pingpong always run, they are the point of this benchmark."""
    sizes = sizes or (QUICK_SIZES if quick else SIZES)
    result = Result("transport", "one-way latency and throughput of a frame crossing from a "
                    "task through two stream managers to a task (the stmgr-to-stmgr hop over "
                    "zmq or libfabric), next to one raw hop (pyzmq, fi_pingpong)")
    for _ in range(runs or (1 if quick else 3)):
        for (system, size), figures in measure_once(quick, sizes).items():
            for key, metric, higher in (("p50", "p50 µs", False), ("p99", "p99 µs", False),
                                        ("MBps", "MB/s", True)):
                if key in figures:
                    result.add(system, f"{metric}, {label(size)}", figures[key], higher)
    return result


def table(result: Result, sizes: list[int]) -> str:
    """Medians over the runs: a row per system and size."""
    systems = list(dict.fromkeys(f.system for f in result.figures))
    medians = {(f.system, f.metric): f.median for f in result.figures}
    lines = ["| system | frame | p50 µs | p99 µs | MB/s |", "|---|---:|---:|---:|---:|"]
    for size in sizes:
        for system in systems:
            cells = [medians.get((system, f"{metric}, {label(size)}")) for metric in
                     ("p50 µs", "p99 µs", "MB/s")]
            if any(cell is not None for cell in cells):
                shown = ["-" if c is None else f"{c:,.0f}" if c >= 100 else f"{c:.3g}"
                         for c in cells]
                lines.append(f"| {system} | {label(size)} | {' | '.join(shown)} |")
    return "\n".join(lines)


def plot(result: Result, sizes: list[int], path: Path) -> bool:
    """p50 latency and throughput against frame size, a line per system; False without
    matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    medians = {(f.system, f.metric): f.median for f in result.figures}
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for system in dict.fromkeys(f.system for f in result.figures):
        for ax, metric in zip(axes, ("p50 µs", "MB/s"), strict=True):
            points = [(size, medians[system, f"{metric}, {label(size)}"]) for size in sizes
                      if (system, f"{metric}, {label(size)}") in medians]
            if points:
                ax.plot(*zip(*points, strict=True), "o-", label=system)
    for ax, title in zip(axes, ("one-way latency, p50 (µs)", "throughput (MB/s)"), strict=True):
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("frame payload (bytes)")
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 sizes, fewer frames, one run")
    parser.add_argument("--runs", type=int, help="runs per figure (default 3, quick 1)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"),
                        help="where transport.png goes")
    parser.add_argument("--zmq-peer", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--datagram-peer", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.zmq_peer:
        zmq_peer(*args.zmq_peer)
        return
    if args.datagram_peer:
        datagram_peer(*args.datagram_peer)
        return
    sizes = QUICK_SIZES if args.quick else SIZES
    result = measure(args.quick, runs=args.runs, sizes=sizes)
    print(table(result, sizes))
    args.out.mkdir(parents=True, exist_ok=True)
    image = args.out / "transport.png"
    print(f"\nplot: {image}" if plot(result, sizes, image) else "\n(no plot: pip install "
          "'heronpy[bench]' for matplotlib)")


if __name__ == "__main__":
    main()
