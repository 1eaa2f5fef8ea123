"""``python -m heronpy.stmgr CONTAINER CONFIG_JSON [--restarted]``: one container's stream
manager (``--restarted``: its tasks are already running)."""

import json
import signal
import sys

from heronpy import config
from heronpy._process import die_with_parent, setup_logging
from heronpy.stmgr.manager import StreamManager
from heronpy.transport.peers import TransportError


def main(argv: list[str]) -> int:
    container, settings, *restarted = argv
    die_with_parent()
    log = setup_logging(f"stmgr[{container}]")
    manager: StreamManager | None = None

    def on_sigterm(*_) -> None:
        """The executor stops us: leave through the manager's clean-up (an shm endpoint left
        open leaves its shared memory behind), which this signal must not interrupt."""
        if manager is None:
            sys.exit(0)  # endpoints already open are closed at exit
        manager.stop()

    signal.signal(signal.SIGTERM, on_sigterm)
    c = json.loads(settings)
    task_containers = {int(t): owner for t, owner in c["task_containers"].items()}
    try:
        manager = StreamManager(
            int(container), task_containers, c["inbox"], c["spout_inbox"], c["host"],
            {int(t): ep for t, ep in c["tasks"].items()}, c["tmaster"], c["start_timeout"],
            c["queue_frames"], c["message_timeout"], c["spout_tasks"],
            restarted=restarted == ["--restarted"],
            transport=c.get("transport", config.DEFAULTS[config.TRANSPORT]),
            fabric_provider=c.get("fabric_provider", config.DEFAULTS[config.FABRIC_PROVIDER]),
            host_per_container=c.get("host_per_container",
                                     config.DEFAULTS[config.HOST_PER_CONTAINER]))
        manager.run()
    except TransportError as err:  # the master has been told
        log.error("%s", err)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
