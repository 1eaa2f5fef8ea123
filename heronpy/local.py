"""Run a topology on this machine and get back what it produced.

>>> result = heronpy.local.run("examples/word_count.py", timeout=60)   # doctest: +SKIP
>>> result.outputs("count")[:3]                                         # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import replace

from heronpy.config import CAPTURE_OUTPUTS
from heronpy.runtime.errors import TopologyFailed
from heronpy.runtime.launcher import RunResult
from heronpy.runtime.loader import to_plan
from heronpy.scheduler.local import LocalScheduler
from heronpy.scheduler.run import run as run_on
from heronpy.topology.logical import LogicalPlan

__all__ = ["RunResult", "TopologyFailed", "run"]


def run(topology, config: dict | None = None, timeout: float | None = 60.0) -> RunResult:
    """Runs ``topology`` in real processes until every spout has ended and every tuple has
    been processed. ``config`` overrides the topology's config (e.g. ``topology.stmgrs``).

    Raises ``InvalidTopologyError`` before starting anything when the topology is invalid,
    ``TopologyFailed`` (with the task id and traceback) when a task fails, and
    ``TimeoutError`` after ``timeout`` seconds; the topology is stopped in every case.
    """
    plan = with_config(to_plan(topology), {CAPTURE_OUTPUTS: True, **(config or {})})
    return run_on(LocalScheduler(), plan, timeout)


def with_config(plan: LogicalPlan, overrides: dict) -> LogicalPlan:
    """The plan with topology config ``overrides`` (validated like the topology's own)."""
    updated = replace(plan, config={**plan.config, **overrides})
    updated.num_containers  # noqa: B018 - validates topology.stmgrs
    return updated
