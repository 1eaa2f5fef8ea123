"""Process hygiene shared by every heronpy process: die with the parent, log to stderr, stop
children with a grace period."""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Iterable
from time import monotonic

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Asks Linux to SIGKILL this process when its parent dies, so no orphan outlives a run."""
    parent = os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: rely on the parent's clean-up
        return
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def terminate(processes: Iterable[subprocess.Popen], grace: float) -> None:
    """SIGTERMs the processes still running, gives them ``grace`` seconds to exit, then
    SIGKILLs what is left (at once when ``grace`` is 0); returns once all are gone."""
    alive = [proc for proc in processes if proc.poll() is None]
    for proc in alive:
        proc.send_signal(signal.SIGTERM if grace else signal.SIGKILL)
    deadline = monotonic() + grace
    for proc in alive:
        try:
            proc.wait(max(0.0, deadline - monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def setup_logging(name: str) -> logging.Logger:
    logging.basicConfig(stream=sys.stderr, level=logging.INFO,
                        format=f"%(asctime)s {name} %(levelname)s %(message)s")
    return logging.getLogger(name)
