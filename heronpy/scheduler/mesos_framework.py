"""``python -m heronpy.scheduler.mesos_framework RUNDIR MASTER``: the Mesos framework of one
topology, as ``heronpy submit mesos`` starts it (``heronpy.scheduler.mesos``).

It subscribes, writes its framework id to ``--ready-fd`` (the submitter waits for it), keeps
``RUNDIR/mesos.json`` up to date for ``heronpy list`` and ``kill``, and runs until every
container has finished, or it was killed (SIGTERM: KILL every task, then TEARDOWN), or it
failed. It logs to stderr, which the submitter sends to ``RUNDIR/logs/mesos.log``.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import json
import logging
import os
import signal
import sys

from heronpy import config
from heronpy._process import setup_logging
from heronpy.runtime.rundir import RunDir
from heronpy.scheduler.base import SchedulerError
from heronpy.scheduler.mesos import (
    Driver,
    Framework,
    container_resources,
    state_file,
    task_command,
)

log = logging.getLogger(__name__)


def topology_framework(rundir: RunDir) -> Framework:
    """The framework of the topology written to ``rundir``."""
    layout = rundir.layout()
    return Framework(layout["name"], getpass.getuser(),
                     [task_command(rundir, c) for c in range(layout["containers"])],
                     container_resources(layout["config"]),
                     int(config.number(layout["config"], config.RESTART_MAX)))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m {__spec__.name}", description=__doc__)
    parser.add_argument("rundir")
    parser.add_argument("master", help="http://HOST:5050")
    parser.add_argument("--ready-fd", type=int, help="write the framework id here, then close it")
    args = parser.parse_args(argv)
    setup_logging("mesos")
    rundir = RunDir(args.rundir)
    ready = os.fdopen(args.ready_fd, "w") if args.ready_fd is not None else None
    written: dict = {}

    def changed(framework: Framework) -> None:
        nonlocal ready
        state = {"pid": os.getpid(), "master": args.master, "framework_id":
                 framework.framework_id, "state": framework.state, "message": framework.message}
        if state != written:
            with open(state_file(rundir.path) + ".tmp", "w") as f:
                json.dump(state, f)
            os.replace(f.name, state_file(rundir.path))
            written.update(state)
        if ready is not None and framework.framework_id is not None:
            with contextlib.suppress(OSError), ready:  # the submitter may have given up
                ready.write(framework.framework_id + "\n")
            ready = None

    framework = topology_framework(rundir)
    driver = Driver(framework, args.master, changed)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: driver.request_kill())
    try:
        driver.run()
    except SchedulerError as err:
        framework.abandon(str(err))
    changed(framework)
    if framework.message:
        log.error("%s", framework.message)
    log.info("framework %s ended: %s", framework.framework_id, framework.state)
    return 0 if framework.state in ("FINISHED", "KILLED") else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
