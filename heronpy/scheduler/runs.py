"""The runs directory, ``~/.heronpy/runs``: a record of each topology the ``heronpy`` command
submitted, so that ``heronpy list`` and ``heronpy kill`` find it from any shell.

A record lives as long as its run directory (removed after a run that finished, kept for
its logs otherwise). Slurm run directories are written here too unless told otherwise: the
nodes must see them, so the home directory (usually shared) is the default.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os

from heronpy.scheduler.base import Job

RUNS_DIR = os.path.join("~", ".heronpy", "runs")


def runs_dir() -> str:
    """The runs directory, created if need be."""
    path = os.path.expanduser(RUNS_DIR)
    os.makedirs(path, exist_ok=True)
    return path


def record(job: Job) -> None:
    path = _path(job)
    with open(path + ".tmp", "w") as f:
        json.dump(dataclasses.asdict(job), f)
    os.replace(path + ".tmp", path)


def forget(job: Job) -> None:
    """Drops the record of a job whose run directory was removed."""
    with contextlib.suppress(FileNotFoundError):
        os.remove(_path(job))


def known() -> list[Job]:
    """The recorded jobs, oldest first; records whose run directory is gone are dropped."""
    found = []
    for name in os.listdir(runs_dir()):
        if not name.endswith(".json"):
            continue
        path = os.path.join(runs_dir(), name)
        with contextlib.suppress(FileNotFoundError):  # another command dropped it meanwhile
            with open(path) as f:
                job = Job(**json.load(f))
            if os.path.isdir(job.rundir):
                found.append((os.path.getmtime(path), job))
            else:
                os.remove(path)
    return [job for _, job in sorted(found, key=lambda pair: pair[0])]



def _path(job: Job) -> str:
    return os.path.join(runs_dir(), f"{job.scheduler}-{job.id}.json")
