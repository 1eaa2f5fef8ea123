"""``python -m heronpy.scheduler.slurm_container RUNDIR INDEX``: container INDEX of a job.

A Slurm step (``slurm_job``) or a Mesos task runs it. Every process advertises this node's
address on its route to the master. Container 0 runs the topology master beside its executor
and exits when both have, or as soon as either fails (stopping the other), which ends the
job. Any other container's executor replaces this process, so Slurm (or Mesos) signals and
accounts for it directly.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

from heronpy import config
from heronpy.runtime.executor import wait_for_tmaster
from heronpy.runtime.rundir import RunDir
from heronpy.scheduler.address import node_address

_POLL_SECS = 0.2


def main(argv: list[str]) -> int:
    path, container = argv
    rundir = RunDir(path)
    executor = [sys.executable, "-m", "heronpy.runtime.executor", path, container]
    if container != "0":
        start_timeout = config.number(rundir.layout()["config"], config.START_TIMEOUT_SECS)
        endpoint = wait_for_tmaster(rundir, start_timeout)
        master_host = endpoint.removeprefix("tcp://").rsplit(":", 1)[0]
        os.execv(sys.executable, [*executor, node_address(toward=master_host)])
    host = node_address()
    with open(rundir.log("tmaster"), "ab") as log:
        master = subprocess.Popen([sys.executable, "-m", "heronpy.runtime.tmaster", path, host],
                                  stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    return _until_both_end(master, subprocess.Popen([*executor, host]))


def _until_both_end(*procs: subprocess.Popen) -> int:
    """0 once every process has exited with 0; else, after stopping the others, the first
    failure's exit status (1 for a signal)."""
    while True:
        codes = [proc.poll() for proc in procs]
        failed = [code for code in codes if code not in (None, 0)]
        if failed:
            for proc in procs:
                proc.terminate()
                proc.wait()
            return max(failed[0], 1)
        if None not in codes:
            return 0
        time.sleep(_POLL_SECS)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
