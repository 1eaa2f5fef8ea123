"""heronpy's own configuration keys (beside Heron's ``api_constants``), with their defaults.

Set them like any topology config: ``builder.set_config({...})``, ``--config KEY=VALUE``, or a
component's ``config=`` (which overrides the topology's for that component).
"""

from __future__ import annotations

from heronpy.api import api_constants

BATCH_SIZE = "heronpy.batch.size"
"""Tuples per frame and destination before a batch is sent."""
BATCH_DELAY_MS = "heronpy.batch.delay.ms"
"""The longest a tuple waits in a batch while its task is busy."""
QUEUE_FRAMES = "heronpy.queue.frames"
"""Frames each queue (socket) holds before its sender is held back: the backpressure bound."""
CAPTURE_OUTPUTS = "heronpy.capture.outputs"
"""Keep what components emit on unsubscribed streams (``heronpy.local.run`` turns it on)."""
START_TIMEOUT_SECS = "heronpy.start.timeout.secs"
"""How long processes may take to start and find each other."""
CHECKPOINT_DIR = "heronpy.checkpoint.dir"
"""Where EFFECTIVELY_ONCE checkpoints are written (default: the run directory); on a cluster,
a shared file system path."""
RESTART_MAX = "heronpy.restart.max"
"""How many times the executor restarts a process that died (and a Slurm job a container),
before the topology fails."""
MASTER_TIMEOUT_SECS = "heronpy.master.timeout.secs"
"""How long a container runs on without hearing from the topology master before it stops
(a node cut off: its replacement must not meet it when the link comes back)."""
COLLECTIVE_ALGORITHM = "heronpy.collective.algorithm"
"""The algorithm of collective groupings that name none: flat, binary_tree (the default) or
ring. Set, it also turns ``Grouping.ALL`` into a broadcast with that algorithm."""
COLLECTIVE_DEGREE = "heronpy.collective.degree"
"""Children per node of a ``binary_tree`` collective (a k-ary tree)."""
TRANSPORT = "heronpy.transport"
"""How stream managers reach each other: ``zmq`` (ZeroMQ tcp) or ``fabric`` (libfabric); unset,
the environment variable HERONPY_TRANSPORT decides. Tasks and their stream manager always talk
over ZeroMQ ipc."""
FABRIC_PROVIDER = "heronpy.fabric.provider"
"""The libfabric provider of the ``fabric`` transport: ``tcp;ofi_rxm`` (Ethernet),
``verbs;ofi_rxm`` (InfiniBand), ``psm2`` or ``opx`` (Omni-Path), ``shm`` (every container on
one host), ...; unset, the environment variable HERONPY_FABRIC_PROVIDER decides.
``heronpy fabric-info`` lists what this machine offers."""

SHM_THRESHOLD = "heronpy.shm.threshold.bytes"
"""A frame's raw buffers (a collective's numpy arrays) of at least this many bytes in all go
to tasks on the same host through shared memory (/dev/shm) instead of the sockets; 0: never."""
SHM_BUDGET = "heronpy.shm.budget.bytes"
"""The most shared memory one task holds for that; beyond it, buffers travel inline."""
COLLECTIVE_DIRECT = "heronpy.collective.direct"
"""Collective frames between tasks of one host go straight from task to task (a Unix
datagram, ``transport/direct.py``) instead of through the stream managers; false: never."""
HOST_PER_CONTAINER = "heronpy.host.per.container"
"""Each container acts as a host of its own: shared memory and direct frames only between tasks
of one container, all else through the stream managers, as between the nodes of a cluster.
For measuring on one machine what a cluster's network would carry."""

DEFAULTS: dict[str, object] = {
    BATCH_SIZE: 2048,
    BATCH_DELAY_MS: 5,
    QUEUE_FRAMES: 8,
    CAPTURE_OUTPUTS: False,
    START_TIMEOUT_SECS: 60,
    RESTART_MAX: 5,
    MASTER_TIMEOUT_SECS: 15,
    COLLECTIVE_DEGREE: 2,
    TRANSPORT: "zmq",
    FABRIC_PROVIDER: "tcp;ofi_rxm",
    SHM_THRESHOLD: 32 * 1024,
    SHM_BUDGET: 64 * 1024 * 1024,
    COLLECTIVE_DIRECT: True,
    HOST_PER_CONTAINER: False,
}


def message_timeout(topology_config: dict) -> float | None:
    """ATLEAST_ONCE: how long a tuple tree may take before its spout is told it failed; None
    when ``topology.enable.message.timeouts`` is off."""
    if _is_false(topology_config.get(api_constants.TOPOLOGY_ENABLE_MESSAGE_TIMEOUTS)):
        return None
    return float(topology_config[api_constants.TOPOLOGY_MESSAGE_TIMEOUT_SECS])


def flag(config: dict, key: str) -> bool:
    """``config[key]`` (or its default) as a boolean; "false" and "0" are false."""
    return not _is_false(config.get(key, DEFAULTS[key]))


def _is_false(value) -> bool:
    """False, "false" or "0", in any case: config values may be strings, as Heron's are."""
    return str(value).lower() in ("false", "0")


def number(config: dict, key: str) -> float:
    """``config[key]`` (or its default) as a number; values may be strings, as Heron's are."""
    return float(config.get(key, DEFAULTS[key]))
