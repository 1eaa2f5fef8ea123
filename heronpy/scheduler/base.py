"""What every scheduler does: start a topology's processes, say whether they still run, end them.

A ``Job`` is what another process (``heronpy kill``, ``heronpy list``) needs to find a
submitted topology again: its scheduler, the scheduler's id for it and its run directory.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from time import monotonic
from typing import ClassVar, NamedTuple

from heronpy.runtime.rundir import RunDir

_POLL_SECS = 0.2


class SchedulerError(RuntimeError):
    """The scheduler refused a request or could not be reached."""


@dataclass(frozen=True)
class Job:
    scheduler: str
    """The scheduler's name: ``local``, ``slurm`` or ``mesos``."""
    id: str
    """The scheduler's id for it: a Slurm job id, a Mesos framework id; locally, the topology
    master's pid."""
    name: str
    """The topology's name."""
    rundir: str


class JobStatus(NamedTuple):
    state: str
    """As the scheduler names it: ``PENDING``, ``RUNNING``, ``CANCELLED``..."""
    active: bool
    """Its processes may still run (or are about to)."""


class Scheduler(ABC):
    """Runs the processes of a topology: its master and one executor per container."""

    name: ClassVar[str]

    @abstractmethod
    def submit(self, rundir: RunDir) -> Job:
        """Starts (or queues) the processes of the topology written to ``rundir``."""

    @abstractmethod
    def status(self, job: Job) -> JobStatus:
        """Where ``job`` stands now, also for a job another process submitted."""

    @abstractmethod
    def kill(self, job: Job) -> None:
        """Ends whatever is left of ``job``'s processes and returns once they are gone."""

    def wait_until_ended(self, job: Job, timeout: float, unless: str | None = None) -> bool:
        """Whether ``job`` ends within ``timeout`` seconds (not waiting while it is in state
        ``unless``)."""
        deadline = monotonic() + timeout
        while (status := self.status(job)).active:
            if monotonic() >= deadline or status.state == unless:
                return False
            time.sleep(_POLL_SECS)
        return True


@dataclass(frozen=True)
class JobProcesses:
    """A job as the client watching it sees it (``heronpy.runtime.launcher.Processes``)."""

    scheduler: Scheduler
    job: Job

    def ended(self) -> str | None:
        status = self.scheduler.status(self.job)
        if status.active:
            return None
        return (f"{self.scheduler.name} job {self.job.id} ended before the topology finished: "
                f"{status.state}")

    def kill(self) -> None:
        self.scheduler.kill(self.job)
