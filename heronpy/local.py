"""Run a topology on this machine and get back what it produced.

>>> result = heronpy.local.run("examples/word_count.py", timeout=60)   # doctest: +SKIP
>>> result.outputs("count")[:3]                                         # doctest: +SKIP
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field, replace
from typing import Any

from heronpy.config import CAPTURE_OUTPUTS
from heronpy.runtime.errors import TopologyFailed
from heronpy.runtime.launcher import LocalTopology
from heronpy.runtime.loader import to_plan
from heronpy.topology.logical import LogicalPlan
from heronpy.topology.physical import PhysicalPlan

__all__ = ["RunResult", "TopologyFailed", "run"]


@dataclass
class RunResult:
    """What a finished topology emitted on its unsubscribed streams, and its counters."""

    plan: PhysicalPlan
    _outputs: dict[tuple[str, str], list[tuple]] = field(repr=False)
    metrics: dict[str, dict[str, Any]]
    """Per component: ``emitted`` and ``executed`` totals and ``tasks``, per task id."""

    def outputs(self, component: str, stream: str = "default") -> list[tuple]:
        """The values ``component`` emitted on ``stream``: each task's in emission order,
        tasks in order. Only for streams that nothing subscribes to."""
        comp = self.plan.logical.components.get(component)
        if comp is None:
            raise KeyError(f"no component '{component}' in topology '{self.plan.logical.name}'")
        if stream not in comp.outputs:
            raise KeyError(f"component '{component}' has no stream '{stream}'")
        if self.plan.logical.consumers(component, stream):
            raise ValueError(f"stream '{stream}' of '{component}' is consumed by other components;"
                             " only unsubscribed streams are collected")
        return list(self._outputs.get((component, stream), []))


def run(topology, config: dict | None = None, timeout: float | None = 60.0) -> RunResult:
    """Runs ``topology`` in real processes until every spout has ended and every tuple has
    been processed. ``config`` overrides the topology's config (e.g. ``topology.stmgrs``).

    Raises ``InvalidTopologyError`` before starting anything when the topology is invalid,
    ``TopologyFailed`` (with the task id and traceback) when a task fails, and
    ``TimeoutError`` after ``timeout`` seconds; the topology is stopped in every case.
    """
    plan = with_config(to_plan(topology), {CAPTURE_OUTPUTS: True, **(config or {})})
    physical = PhysicalPlan.pack(plan)
    with LocalTopology(physical) as running:
        task_metrics = running.wait(timeout)
        outputs = running.read_outputs()
    shutil.rmtree(running.rundir.path, ignore_errors=True)
    return RunResult(physical, outputs, _by_component(physical, task_metrics))


def with_config(plan: LogicalPlan, overrides: dict) -> LogicalPlan:
    """The plan with topology config ``overrides`` (validated like the topology's own)."""
    updated = replace(plan, config={**plan.config, **overrides})
    updated.num_containers  # noqa: B018 - validates topology.stmgrs
    return updated


def _by_component(plan: PhysicalPlan, task_metrics: dict[int, dict]) -> dict[str, dict]:
    result = {}
    for component, tasks in plan.component_tasks.items():
        per_task = {t: task_metrics.get(t, {}) for t in tasks}
        result[component] = {
            "emitted": sum(m.get("emitted", 0) for m in per_task.values()),
            "executed": sum(m.get("executed", 0) for m in per_task.values()),
            "tasks": per_task,
        }
    return result
