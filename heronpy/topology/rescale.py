"""Rescaling a physical plan for ``heronpy update``: new parallelisms, the same task ids.

Tasks that stay keep their id and container, so their snapshots, logs and outputs stay theirs;
added tasks get ids never used before in this topology, placed round-robin like ``pack``;
removed tasks are ``retired`` (their outputs still count). A rescaled bolt's keyed state is
split again by the fields grouping's hash (``routing.fields_index``): a key of its ``State`` must be
what it is grouped on, the field's value, or the tuple of values for several fields.

What cannot be rescaled is refused here, before anything stops, naming the component.
"""

from __future__ import annotations

from dataclasses import replace

from heronpy.api.bolt.windowed_bolt import WindowedBolt
from heronpy.api.state.stateful_component import StatefulComponent
from heronpy.topology.logical import InvalidTopologyError, LogicalPlan
from heronpy.topology.physical import PhysicalPlan, TaskInfo


def rescale(plan: PhysicalPlan, parallelism: dict[str, int]) -> PhysicalPlan:
    """The plan with each component of ``parallelism`` at its new task count."""
    logical = plan.logical
    _check(plan, parallelism)
    components = {name: replace(comp, parallelism=parallelism.get(name, comp.parallelism))
                  for name, comp in logical.components.items()}
    tasks: dict[int, TaskInfo] = {}
    component_tasks: dict[str, list[int]] = {}
    retired = dict(plan.retired)
    next_id = max([*plan.tasks, *retired]) + 1
    for name, comp in components.items():
        old = plan.component_tasks[name]
        ids = component_tasks[name] = []
        for index in range(comp.parallelism):
            if index < len(old):
                task = plan.tasks[old[index]]
            else:
                task = TaskInfo(next_id, name, index, (next_id - 1) % plan.num_containers)
                next_id += 1
            tasks[task.task_id] = task
            ids.append(task.task_id)
        retired.update({t: name for t in old[comp.parallelism:]})
    return PhysicalPlan(LogicalPlan(logical.name, components, logical.config),
                        plan.num_containers, tasks, component_tasks, dict(plan.stream_ids),
                        retired=retired)


def _check(plan: PhysicalPlan, parallelism: dict[str, int]) -> None:
    logical = plan.logical
    if plan.collectives:
        raise InvalidTopologyError(
            f"topology '{logical.name}' has collective groupings, whose rounds are not saved: "
            "it cannot be updated")
    for name, n in parallelism.items():
        comp = logical.components.get(name)
        if comp is None:
            raise InvalidTopologyError(f"topology '{logical.name}' has no component '{name}'")
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise InvalidTopologyError(
                f"component '{name}': parallelism must be an integer >= 1, given {n!r}")
        if n == comp.parallelism or not issubclass(comp.cls, StatefulComponent):
            continue
        if comp.is_spout:
            raise InvalidTopologyError(
                f"component '{name}': a stateful spout's state (its position in its source) "
                "cannot be split among a different number of tasks")
        if not comp.inputs or any(s.grouping.kind != "fields" for s in comp.inputs):
            raise InvalidTopologyError(
                f"component '{name}': its state can only be split by key, and not all of its "
                "inputs are fields-grouped")
    changed = {name for name, n in parallelism.items()
               if n != logical.components[name].parallelism}
    for comp in logical.components.values():
        fed = comp.name in changed or any(s.component in changed for s in comp.inputs)
        if fed and issubclass(comp.cls, WindowedBolt):
            raise InvalidTopologyError(
                f"component '{comp.name}': a windowed bolt's buffers are kept per task and "
                "per input task; neither it nor what feeds it can be rescaled")
