"""``python -m heronpy.stmgr CONTAINER CONFIG_JSON [--restarted]``: one container's stream
manager (``--restarted``: its tasks are already running)."""

import json
import sys

from heronpy._process import die_with_parent, setup_logging
from heronpy.stmgr.manager import StreamManager


def main(argv: list[str]) -> int:
    container, config, *restarted = argv
    die_with_parent()
    setup_logging(f"stmgr[{container}]")
    c = json.loads(config)
    task_containers = {int(t): owner for t, owner in c["task_containers"].items()}
    StreamManager(int(container), task_containers, c["inbox"], c["spout_inbox"], c["host"],
                  {int(t): ep for t, ep in c["tasks"].items()}, c["tmaster"],
                  c["start_timeout"], c["queue_frames"], c["message_timeout"], c["spout_tasks"],
                  restarted=restarted == ["--restarted"]).run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
