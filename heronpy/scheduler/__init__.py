"""Schedulers: where a topology's processes run (this machine, a Slurm job, Mesos), behind one
interface (``base.Scheduler``: submit, status, kill). The client watching a topology is the
same for all of them (``heronpy.runtime.launcher``)."""

from __future__ import annotations

from heronpy.scheduler.base import Scheduler
from heronpy.scheduler.local import LocalScheduler
from heronpy.scheduler.mesos import MesosScheduler
from heronpy.scheduler.slurm import SlurmScheduler

SCHEDULERS: dict[str, type[Scheduler]] = {
    s.name: s for s in (LocalScheduler, SlurmScheduler, MesosScheduler)}
"""Each scheduler by its name, as ``Job.scheduler`` and ``heronpy submit`` name it."""
