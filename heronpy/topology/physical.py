"""The physical plan: task ids, the container of each task, and numbered streams.

Packing is round-robin over containers in declaration order (Heron's round-robin packing), so a
component with parallelism >= containers has tasks in every container.
"""

from __future__ import annotations

from dataclasses import dataclass

from heronpy.topology.logical import LogicalPlan

CONTROL_TASK = 0
"""Task id 0 addresses the stream manager itself; task ids start at 1."""


@dataclass(frozen=True)
class TaskInfo:
    task_id: int
    component: str
    index: int  # position among the component's tasks, from 0
    container: int


@dataclass
class PhysicalPlan:
    logical: LogicalPlan
    num_containers: int
    tasks: dict[int, TaskInfo]
    component_tasks: dict[str, list[int]]
    stream_ids: dict[tuple[str, str], int]  # (component, stream) -> small int on the wire

    @classmethod
    def pack(cls, logical: LogicalPlan, num_containers: int | None = None) -> PhysicalPlan:
        n = num_containers or logical.num_containers
        tasks: dict[int, TaskInfo] = {}
        component_tasks: dict[str, list[int]] = {}
        for comp in logical.components.values():
            ids = component_tasks[comp.name] = []
            for index in range(comp.parallelism):
                task_id = len(tasks) + 1
                tasks[task_id] = TaskInfo(task_id, comp.name, index, (task_id - 1) % n)
                ids.append(task_id)
        stream_ids = {}
        for comp in logical.components.values():
            for stream in comp.outputs:
                stream_ids[(comp.name, stream)] = len(stream_ids)
        return cls(logical, n, tasks, component_tasks, stream_ids)

    def container_tasks(self, container: int) -> list[int]:
        return [t.task_id for t in self.tasks.values() if t.container == container]

    def upstream_tasks(self, component: str) -> list[int]:
        """Every task that feeds ``component`` (its input channels)."""
        sources = {s.component for s in self.logical.components[component].inputs}
        return [t for c in sources for t in self.component_tasks[c]]

    def describe(self) -> str:
        lines = [f"physical plan: {len(self.tasks)} tasks in {self.num_containers} containers"]
        for c in range(self.num_containers):
            members = ", ".join(f"{self.tasks[t].component}[{self.tasks[t].index}]=task {t}"
                                for t in self.container_tasks(c))
            lines.append(f"  container {c}: stream manager + {members}")
        return "\n".join(lines)
