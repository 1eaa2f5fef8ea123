"""The batch script of a topology's Slurm job (pure text, so it can be read and tested).

The job holds ``nodes`` nodes and one Slurm task per container; the script runs
``heronpy.scheduler.slurm_job``, which starts each container (``slurm_container``) as an
``srun`` step and restarts those that fail. ``--no-kill``: a lost node does not end the job,
whose containers move to the nodes it has left. The script names the Python and the
``PYTHONPATH`` of the submitter, so the job runs the same code (both must be visible on every
node).
"""

from __future__ import annotations

import re
import shlex

CONTAINER_MODULE = "heronpy.scheduler.slurm_container"
JOB_MODULE = "heronpy.scheduler.slurm_job"


def container_command(python: str, rundir: str, container: int) -> list[str]:
    """The command line of one container of a cluster job, Slurm's or Mesos's."""
    return [python, "-m", CONTAINER_MODULE, rundir, str(container)]


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
    return "\n".join([
        "#!/bin/bash",
        f"# heronpy topology '{topology}': {containers} container(s) on {nodes} node(s);",
        "# container 0 also runs the topology master. Written by `heronpy submit slurm`.",
        *(f"#SBATCH --{key}={shlex.quote(str(value))}"
          for key, value in options.items() if value is not None),
        "#SBATCH --no-requeue",
        "#SBATCH --no-kill",
        f"export PYTHONPATH={shlex.quote(pythonpath)}",
        "export PYTHONUNBUFFERED=1",
        "exec " + shlex.join([python, "-m", JOB_MODULE, rundir]),
        "",
    ])
