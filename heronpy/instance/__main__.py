"""``python -m heronpy.instance PACKAGE TASK_ID INBOX STMGR OUTPUTS CHECKPOINTS RESTORE``:
one task process, which saves its checkpoints under CHECKPOINTS and starts from checkpoint
RESTORE (``none``: start clean)."""

import sys

import cloudpickle

from heronpy._process import die_with_parent, setup_logging
from heronpy.instance.checkpoints import CheckpointStore
from heronpy.instance.runner import TaskInstance


def main(argv: list[str]) -> int:
    package, task, inbox, stmgr, outputs, checkpoints, restore = argv
    die_with_parent()
    task_id = int(task)
    with open(package, "rb") as f:
        plan = cloudpickle.load(f)
    setup_logging(f"{plan.tasks[task_id].component}[task {task_id}]")
    return TaskInstance(plan, task_id, inbox, stmgr, outputs, CheckpointStore(checkpoints),
                        None if restore == "none" else int(restore)).run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
