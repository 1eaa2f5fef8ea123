"""Errors a running topology reports to whoever launched it."""


class TopologyFailed(RuntimeError):
    """A task or process of the topology failed; ``task`` and ``component`` say which when a
    task did, and the message carries its traceback (or the last lines of its log)."""

    def __init__(self, what: str, component: str | None = None, task: int | None = None):
        self.component = component
        self.task = task
        where = f"'{component}' task {task} failed" if task is not None else "topology failed"
        super().__init__(f"{where}:\n{what}")


class UpdateFailed(RuntimeError):
    """``heronpy update`` could not rescale the topology, which goes on as it was."""
