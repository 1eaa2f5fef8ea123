"""The physical plan: task ids, the container of each task, and numbered streams.

Packing is round-robin over containers in declaration order (Heron's round-robin packing), so a
component with parallelism >= containers has tasks in every container. Collective subscriptions
become node graphs placed on the packed tasks (``heronpy.topology.collective``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from heronpy import config
from heronpy.topology.collective import CollectiveGraph, build
from heronpy.topology.logical import LogicalPlan, Subscription

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
    collectives: list[CollectiveGraph] = field(default_factory=list)  # index = edge id
    retired: dict[int, str] = field(default_factory=dict)  # task -> component, rescaled away

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
        plan = cls(logical, n, tasks, component_tasks, stream_ids)
        for comp in logical.components.values():
            for sub in comp.inputs:
                kind = collective_kind(logical.component_config(comp.name), sub)
                if kind is not None:
                    plan.collectives.append(plan._collective(kind, comp.name, sub))
        return plan

    def _collective(self, kind: str, consumer: str, sub: Subscription) -> CollectiveGraph:
        settings = self.logical.component_config(consumer)
        graph = CollectiveGraph(
            len(self.collectives), kind,
            sub.grouping.algorithm or settings.get(config.COLLECTIVE_ALGORITHM, "binary_tree"),
            sub.grouping.degree or int(config.number(settings, config.COLLECTIVE_DEGREE)),
            sub.grouping.op, sub.component, sub.stream, consumer,
            list(self.component_tasks[sub.component]), list(self.component_tasks[consumer]))
        if self.logical.components[sub.component].is_spout:
            graph.relays = self._relays(graph.producers, graph.consumers)
        return build(graph, lambda task: self.tasks[task].container)

    def _relays(self, producers: list[int], consumers: list[int]) -> dict[int, int]:
        """Each producer's stand-in for relaying: a consumer task in its container (taking
        turns), else the consumer's first task."""
        local: dict[int, list[int]] = {}
        for task in consumers:
            local.setdefault(self.tasks[task].container, []).append(task)
        relays = {}
        for i, task in enumerate(producers):
            choices = local.get(self.tasks[task].container, consumers[:1])
            relays[task] = choices[i % len(choices)]
        return relays

    def container_tasks(self, container: int) -> list[int]:
        return [t.task_id for t in self.tasks.values() if t.container == container]

    def upstream_tasks(self, component: str) -> list[int]:
        """Every task that feeds ``component`` directly (its input channels); collectives
        reach it through their graphs instead."""
        config_ = self.logical.component_config(component)
        sources = {s.component for s in self.logical.components[component].inputs
                   if collective_kind(config_, s) is None}
        return [t for c in sources for t in self.component_tasks[c]]

    def collectives_of(self, task: int) -> list[CollectiveGraph]:
        """The collective graphs with a node on ``task``."""
        return [g for g in self.collectives if g.hosted_by(task)]

    def describe(self) -> str:
        lines = [f"physical plan: {len(self.tasks)} tasks in {self.num_containers} containers"]
        for c in range(self.num_containers):
            members = ", ".join(f"{self.tasks[t].component}[{self.tasks[t].index}]=task {t}"
                                for t in self.container_tasks(c))
            lines.append(f"  container {c}: stream manager + {members}")
        for graph in self.collectives:
            lines += graph.describe(lambda task: self.tasks[task].container)
        return "\n".join(lines)


def collective_kind(settings: dict, sub: Subscription) -> str | None:
    """The collective a subscription is, if any: a collective grouping, or ALL when the
    topology sets ``heronpy.collective.algorithm`` (then it is a broadcast)."""
    if sub.grouping.is_collective:
        return sub.grouping.kind
    if sub.grouping.kind == "all" and settings.get(config.COLLECTIVE_ALGORITHM):
        return "broadcast"
    return None
