"""``python -m heronpy.instance PACKAGE TASK_ID INBOX STMGR OUTPUTS [CHECKPOINTS RESTORE]``:
one task process; with a checkpoint directory it is stateful (EFFECTIVELY_ONCE) and restores
checkpoint RESTORE (``none``: start clean)."""

import sys

import cloudpickle

from heronpy._process import die_with_parent, setup_logging
from heronpy.instance.checkpoints import CheckpointStore
from heronpy.instance.runner import TaskInstance


def main(argv: list[str]) -> int:
    package, task, inbox, stmgr, outputs, *stateful = argv
    die_with_parent()
    task_id = int(task)
    with open(package, "rb") as f:
        plan = cloudpickle.load(f)
    setup_logging(f"{plan.tasks[task_id].component}[task {task_id}]")
    checkpoints = restore = None
    if stateful:
        checkpoints = CheckpointStore(stateful[0])
        restore = None if stateful[1] == "none" else int(stateful[1])
    return TaskInstance(plan, task_id, inbox, stmgr, outputs, checkpoints, restore).run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
