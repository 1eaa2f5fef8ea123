"""ZeroMQ sockets as heronpy uses them: PUSH/PULL data channels and DEALER/ROUTER control.

PUSH never drops a message (it blocks at the high-water mark), which is why data uses it.
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


def pull(ctx: zmq.Context, *binds: str) -> zmq.Socket:
    """A PULL socket bound to every endpoint in ``binds``."""
    sock = ctx.socket(zmq.PULL)
    sock.rcvhwm = 0
    for endpoint in binds:
        sock.bind(endpoint)
    return sock


def push(ctx: zmq.Context, endpoint: str) -> zmq.Socket:
    sock = ctx.socket(zmq.PUSH)
    sock.sndhwm = 0
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
