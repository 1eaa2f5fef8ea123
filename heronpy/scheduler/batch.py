"""The batch script of a topology's Slurm job (pure text, so it can be read and tested).

The job holds ``nodes`` nodes and one Slurm task per container; a single ``srun`` step starts
``heronpy.scheduler.slurm_container`` once per container, which finds its index in
``SLURM_PROCID``. The script names the Python and the ``PYTHONPATH`` of the submitter, so the
job runs the same code (both must be visible on every node).
"""

from __future__ import annotations

import re
import shlex

CONTAINER_MODULE = "heronpy.scheduler.slurm_container"


def container_command(python: str, rundir: str, container: int | None = None) -> list[str]:
    """The command line of one container of a cluster job, Slurm's or Mesos's; without
    ``container``, its index is the Slurm task's rank."""
    index = [] if container is None else [str(container)]
    return [python, "-m", CONTAINER_MODULE, rundir, *index]


def job_name(topology: str) -> str:
    """The Slurm job name of a topology: ``heronpy-NAME``, safe in ``#SBATCH`` lines."""
    return "heronpy-" + re.sub(r"[^\w.-]", "_", topology)


def batch_script(rundir: str, topology: str, containers: int, nodes: int, *, python: str,
                 pythonpath: str, partition: str | None = None,
                 time_limit: str | None = None) -> str:
    """The script ``sbatch`` runs on the job's first node."""
    options = {
        "job-name": job_name(topology),
        "nodes": nodes,
        "ntasks": containers,
        "output": f"{rundir}/logs/slurm-%j.log",
        "partition": partition,
        "time": time_limit,
    }
    srun = ["srun", f"--nodes={nodes}", f"--ntasks={containers}", "--kill-on-bad-exit=1",
            f"--output={rundir}/logs/executor-%t.log", *container_command(python, rundir)]
    return "\n".join([
        "#!/bin/bash",
        f"# heronpy topology '{topology}': {containers} container(s) on {nodes} node(s);",
        "# container 0 also runs the topology master. Written by `heronpy submit slurm`.",
        *(f"#SBATCH --{key}={shlex.quote(str(value))}"
          for key, value in options.items() if value is not None),
        "#SBATCH --no-requeue",
        f"export PYTHONPATH={shlex.quote(pythonpath)}",
        "export PYTHONUNBUFFERED=1",
        "exec " + shlex.join(srun),
        "",
    ])
