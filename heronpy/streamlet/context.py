"""What a ``Generator``'s ``setup`` learns about its task (Heron's streamlet ``Context``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Context:
    """The task's id, its partition (task index) among the source's partitions, and the
    component config (topology config overridden by the component's own).

    >>> Context(task_id=7, partition_index=1, num_partitions=2).get_partition_index()
    1
    """

    task_id: int
    partition_index: int
    num_partitions: int
    config: dict[str, Any] = field(default_factory=dict)

    def get_task_id(self) -> int:
        return self.task_id

    def get_partition_index(self) -> int:
        """0 .. ``get_num_partitions() - 1``: split a source's work among its tasks with it."""
        return self.partition_index

    def get_num_partitions(self) -> int:
        return self.num_partitions

    def get_config(self) -> dict[str, Any]:
        return self.config
