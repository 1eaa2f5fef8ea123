"""``python -m heronpy.scheduler.detached RUNDIR``: a local topology in the background.

``heronpy submit local --detach`` starts this process in a session of its own and returns; it
starts the master and the executors as ``submit local`` does and stays their parent (they die
with it) until the topology finishes, fails or is killed (``heronpy kill``). The run directory
(under ``~/.heronpy/runs``) keeps the logs and the captured outputs.
"""

from __future__ import annotations

import logging
import signal
import sys

from heronpy._process import setup_logging
from heronpy.runtime.errors import TopologyFailed
from heronpy.runtime.launcher import RunningTopology
from heronpy.runtime.rundir import RunDir
from heronpy.scheduler.base import JobProcesses
from heronpy.scheduler.local import LocalScheduler

log = logging.getLogger(__name__)


def main(argv: list[str]) -> int:
    (path,) = argv
    setup_logging("detached")
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    rundir = RunDir(path)
    scheduler = LocalScheduler()
    job = scheduler.submit(rundir)
    with RunningTopology(rundir, JobProcesses(scheduler, job)) as running:  # stops it at exit
        try:
            running.wait(None)
            log.info("topology finished")
        except TopologyFailed as err:
            log.warning("topology ended: %s", err)
            return 1
        except KeyboardInterrupt:
            log.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
