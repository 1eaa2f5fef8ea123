"""Process hygiene shared by every heronpy process: die with the parent, log to stderr."""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import sys

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


def setup_logging(name: str) -> logging.Logger:
    logging.basicConfig(stream=sys.stderr, level=logging.INFO,
                        format=f"%(asctime)s {name} %(levelname)s %(message)s")
    return logging.getLogger(name)
