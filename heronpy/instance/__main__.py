"""``python -m heronpy.instance PACKAGE TASK_ID INBOX STMGR OUTPUTS``: one task process."""

import sys

import cloudpickle

from heronpy._process import die_with_parent, setup_logging
from heronpy.instance.runner import TaskInstance


def main(argv: list[str]) -> int:
    package, task, inbox, stmgr, outputs = argv
    die_with_parent()
    task_id = int(task)
    with open(package, "rb") as f:
        plan = cloudpickle.load(f)
    setup_logging(f"{plan.tasks[task_id].component}[task {task_id}]")
    return TaskInstance(plan, task_id, inbox, stmgr, outputs).run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
