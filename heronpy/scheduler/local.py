"""The local scheduler: the topology master and one executor per container on this machine.

Each process has its own process group, so ending a container is one ``killpg`` even if its
executor is gone; they all die with the process that started them (``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from time import monotonic

from heronpy.runtime.launcher import child_environment
from heronpy.runtime.rundir import RunDir
from heronpy.scheduler.base import Job, JobStatus, Scheduler

_HOST = "127.0.0.1"  # what local processes bind and advertise: nothing leaves this machine
_STOP_GRACE_SECS = 5.0
_MASTER_MODULE = "heronpy.runtime.tmaster"


class LocalScheduler(Scheduler):
    name = "local"

    def __init__(self) -> None:
        self._started: dict[str, list[subprocess.Popen]] = {}

    def submit(self, rundir: RunDir) -> Job:
        layout = rundir.layout()
        env = child_environment()
        procs: list[subprocess.Popen] = []
        try:
            procs.append(_start(rundir, env, "tmaster", _MASTER_MODULE, _HOST))
            for c in range(layout["containers"]):  # they wait for the master themselves
                procs.append(_start(rundir, env, f"executor-{c}", "heronpy.runtime.executor",
                                    str(c), _HOST))
        except BaseException:
            _end(procs, grace=0)
            raise
        job = Job(self.name, str(procs[0].pid), layout["name"], rundir.path)
        self._started[job.id] = procs
        return job

    def status(self, job: Job) -> JobStatus:
        """Running while its master runs: without it the topology cannot go on."""
        procs = self._started.get(job.id)
        if procs is not None:  # ours: /proc may not show a just started process's arguments
            running = procs[0].poll() is None
        else:
            running = is_running(int(job.id), _MASTER_MODULE, job.rundir)
        return JobStatus("RUNNING" if running else "EXITED", running)

    def kill(self, job: Job) -> None:
        """Ends the process groups this scheduler started; for a topology another process
        started, its master (that process then ends the rest)."""
        procs = self._started.pop(job.id, None)
        if procs is not None:
            _end(procs, _STOP_GRACE_SECS)
        elif is_running(int(job.id), _MASTER_MODULE, job.rundir):
            os.kill(int(job.id), signal.SIGTERM)


def _start(rundir: RunDir, env: dict[str, str], name: str, module: str,
           *args: str) -> subprocess.Popen:
    with open(rundir.log(name), "ab") as log:
        return subprocess.Popen([sys.executable, "-m", module, rundir.path, *args],
                                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=env, start_new_session=True)


def _end(procs: list[subprocess.Popen], grace: float) -> None:
    """Gives the processes ``grace`` seconds to exit, then kills what is left of each group."""
    deadline = monotonic() + grace
    for proc in procs:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(max(0.0, deadline - monotonic()))
    for proc in procs:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def is_running(pid: int, module: str, rundir: str) -> bool:
    """Whether ``pid`` is a running ``python -m module`` of ``rundir`` (not an exited one, not
    a process that reused its pid)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = f.read().split(b"\0")
    except OSError:
        return False
    return os.fsencode(module) in argv and os.fsencode(rundir) in argv
