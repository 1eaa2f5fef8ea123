"""ZeroMQ sockets as heronpy uses them: PUSH/PULL data channels and DEALER/ROUTER control.

PUSH never drops a message (it blocks at the high-water mark), which is why data uses it;
every data socket has a high-water mark, in frames, so every queue is bounded.
Endpoints: ``ipc://`` inside a container, ``tcp://`` between stream managers.
"""

from __future__ import annotations

import os

import zmq

LINGER_MS = 2000


def context() -> zmq.Context:
    return zmq.Context.instance()


def ipc_endpoint(rundir: str, name: str) -> str:
    return f"ipc://{os.path.join(rundir, 'sock', name)}"


def pull(ctx: zmq.Context, queue_frames: int, *binds: str) -> zmq.Socket:
    """A PULL socket bound to every endpoint in ``binds``, queueing at most ``queue_frames``
    frames per connected peer."""
    sock = ctx.socket(zmq.PULL)
    sock.rcvhwm = queue_frames
    for endpoint in binds:
        sock.bind(endpoint)
    return sock


def push(ctx: zmq.Context, endpoint: str, queue_frames: int) -> zmq.Socket:
    """A PUSH socket connected to ``endpoint``; a send blocks (or raises ``zmq.Again`` with
    NOBLOCK) once ``queue_frames`` frames wait."""
    sock = ctx.socket(zmq.PUSH)
    sock.sndhwm = queue_frames
    sock.linger = LINGER_MS
    sock.connect(endpoint)
    return sock


def dealer(ctx: zmq.Context, endpoint: str, identity: str) -> zmq.Socket:
    sock = ctx.socket(zmq.DEALER)
    sock.routing_id = identity.encode()
    sock.linger = LINGER_MS
    sock.connect(endpoint)
    return sock


def bind_tcp(sock: zmq.Socket, host: str) -> str:
    """Binds ``sock`` to a free tcp port on ``host``; returns the endpoint peers connect to."""
    sock.bind(f"tcp://{host}:*")
    return sock.last_endpoint.decode()
