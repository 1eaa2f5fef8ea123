"""The ``TopologyContext`` a task's spout or bolt receives in ``initialize``."""

from __future__ import annotations

from heronpy.api.component.component_spec import GlobalStreamId
from heronpy.api.topology_context import TopologyContext
from heronpy.topology.physical import PhysicalPlan


class TaskContext(TopologyContext):
    def __init__(self, plan: PhysicalPlan, task_id: int):
        self._plan = plan
        self._task_id = task_id
        self._component = plan.tasks[task_id].component
        self._config = plan.logical.component_config(self._component)

    def get_task_id(self) -> int:
        return self._task_id

    def get_task_index(self) -> int:
        """This task's position (0-based) among its component's tasks."""
        return self._plan.tasks[self._task_id].index

    def get_component_id(self) -> str:
        return self._component

    def get_cluster_config(self) -> dict:
        return dict(self._config)

    def get_topology_name(self) -> str:
        return self._plan.logical.name

    def get_sources(self, component_id: str) -> dict | None:
        component = self._plan.logical.components.get(component_id)
        if component is None:
            return None
        return {GlobalStreamId(s.component, s.stream): s.grouping for s in component.inputs}

    def get_component_tasks(self, component_id: str) -> list[int] | None:
        tasks = self._plan.component_tasks.get(component_id)
        return list(tasks) if tasks is not None else None
