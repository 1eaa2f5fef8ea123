"""The logical plan: components, their streams and subscriptions, validated at build time.

Every check names the component at fault, so a bad topology fails before any process starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from numbers import Integral
from typing import Any

from heronpy.api import api_constants as constants
from heronpy.api.bolt.bolt import Bolt
from heronpy.api.bolt.windowed_bolt import WindowedBolt
from heronpy.api.component.component_spec import GlobalStreamId, HeronComponentSpec
from heronpy.api.spout.spout import Spout
from heronpy.api.stream import ALGORITHMS, Grouping, GroupingSpec, Stream
from heronpy.config import COLLECTIVE_ALGORITHM, message_timeout
from heronpy.topology.collective import TO_ALL

DEFAULT_CONFIG: dict[str, Any] = {
    constants.TOPOLOGY_DEBUG: False,
    constants.TOPOLOGY_STMGRS: 1,
    constants.TOPOLOGY_MESSAGE_TIMEOUT_SECS: 30,
    constants.TOPOLOGY_MAX_SPOUT_PENDING: 100,
    constants.TOPOLOGY_RELIABILITY_MODE: constants.TopologyReliabilityMode.ATMOST_ONCE,
    constants.TOPOLOGY_ENABLE_MESSAGE_TIMEOUTS: True,
}


class InvalidTopologyError(ValueError):
    """A topology that cannot run; the message names the component and the problem."""


@dataclass(frozen=True)
class Subscription:
    """A bolt's input: one stream of one upstream component, split by ``grouping``."""

    component: str
    stream: str
    grouping: GroupingSpec


@dataclass
class ComponentDef:
    """One validated spout or bolt."""

    name: str
    cls: type
    is_spout: bool
    parallelism: int
    outputs: dict[str, tuple[str, ...]]
    inputs: list[Subscription] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def class_path(self) -> str:
        return f"{self.cls.__module__}.{self.cls.__qualname__}"


@dataclass
class LogicalPlan:
    """A topology's components in declaration order, and its topology-wide config."""

    name: str
    components: dict[str, ComponentDef]
    config: dict[str, Any]

    def consumers(self, component: str, stream: str) -> list[tuple[ComponentDef, Subscription]]:
        """The bolts subscribed to ``component``'s ``stream``, with their subscriptions."""
        return [(c, s) for c in self.components.values() for s in c.inputs
                if s.component == component and s.stream == stream]

    def component_config(self, name: str) -> dict[str, Any]:
        """Topology config overridden by the component's own config."""
        return {**self.config, **self.components[name].config}

    @property
    def num_containers(self) -> int:
        return _positive_int(self.config[constants.TOPOLOGY_STMGRS], constants.TOPOLOGY_STMGRS)

    def describe(self) -> str:
        lines = [f"logical plan of topology '{self.name}'"]
        for c in self.components.values():
            kind = "spout" if c.is_spout else "bolt"
            lines.append(f"  {kind} {c.name} x{c.parallelism}  ({c.class_path})")
            for s in c.inputs:
                lines.append(f"    <- {s.component}:{s.stream}  {s.grouping!r}")
            for stream, fields in c.outputs.items():
                lines.append(f"    -> {stream} {list(fields)}")
        return "\n".join(lines)


def build_plan(name: str, specs: list[HeronComponentSpec], config: dict | None) -> LogicalPlan:
    """Validates ``specs`` and returns the logical plan, or raises ``InvalidTopologyError``."""
    if not isinstance(name, str) or not name:
        raise InvalidTopologyError(f"topology name must be a non-empty string, given {name!r}")
    if config is not None and not isinstance(config, dict):
        raise InvalidTopologyError(f"topology config must be a dict, given {type(config).__name__}")
    by_name: dict[str, HeronComponentSpec] = {}
    for spec in specs:
        if not isinstance(spec.name, str) or not spec.name or spec.name.startswith("__"):
            raise InvalidTopologyError(
                f"component {spec!r}: name must be a non-empty string not starting with '__'")
        if spec.name in by_name and by_name[spec.name] is not spec:
            raise InvalidTopologyError(f"component '{spec.name}': duplicate component name")
        by_name[spec.name] = spec
    components = {n: _component(s, by_name) for n, s in by_name.items()}
    if not any(c.is_spout for c in components.values()):
        raise InvalidTopologyError(f"topology '{name}' has no spout")
    _check_acyclic(components)
    plan = LogicalPlan(name, components, {**DEFAULT_CONFIG, **(config or {})})
    plan.num_containers  # noqa: B018 - validates topology.stmgrs
    _check_algorithm(f"topology '{name}'", plan.config)
    for component in components.values():
        if issubclass(component.cls, WindowedBolt):
            _check_windows(plan, component)
        _check_collectives(plan, component)
    return plan


def _check_algorithm(owner: str, config: dict) -> None:
    algorithm = config.get(COLLECTIVE_ALGORITHM)
    if algorithm is not None and algorithm not in ALGORITHMS:
        raise InvalidTopologyError(f"{owner}: {COLLECTIVE_ALGORITHM} must be one of "
                                   f"{list(ALGORITHMS)}, given {algorithm!r}")


def _check_collectives(plan: LogicalPlan, bolt: ComponentDef) -> None:
    _check_algorithm(f"component '{bolt.name}'", bolt.config)
    settings = plan.component_config(bolt.name)
    for sub in bolt.inputs:
        if not sub.grouping.is_collective:
            continue
        if issubclass(bolt.cls, WindowedBolt):
            raise InvalidTopologyError(
                f"bolt '{bolt.name}': a windowed bolt cannot subscribe with {sub.grouping!r}")
        if (settings.get(constants.TOPOLOGY_RELIABILITY_MODE)
                == constants.TopologyReliabilityMode.EFFECTIVELY_ONCE):
            raise InvalidTopologyError(
                f"bolt '{bolt.name}': {sub.grouping!r} on '{sub.component}:{sub.stream}' is not "
                "supported with EFFECTIVELY_ONCE (collectives are not checkpointed yet)")


def _check_windows(plan: LogicalPlan, bolt: ComponentDef) -> None:
    try:
        spec = bolt.cls.window_spec(plan.component_config(bolt.name))
    except (ValueError, TypeError) as err:
        raise InvalidTopologyError(f"bolt '{bolt.name}': {err}") from None
    if spec.late_stream is not None and spec.late_stream not in bolt.outputs:
        raise InvalidTopologyError(
            f"bolt '{bolt.name}': late_stream '{spec.late_stream}' is not one of its outputs "
            f"{sorted(bolt.outputs)}")
    _check_windows_release(plan, bolt, spec)
    for sub in bolt.inputs if spec.timestamp_field is not None else ():
        fields = plan.components[sub.component].outputs[sub.stream]
        if spec.timestamp_field not in fields:
            raise InvalidTopologyError(
                f"bolt '{bolt.name}': timestamp_field '{spec.timestamp_field}' is not a field of "
                f"stream '{sub.stream}' of '{sub.component}' {list(fields)}")


def _check_windows_release(plan: LogicalPlan, bolt: ComponentDef, spec) -> None:
    """Under ATLEAST_ONCE a tuple is acked when it leaves its last window, so windows must let
    tuples go before they time out, and count windows before the spouts run out of pending
    tuples (``topology.max.spout.pending``): else tuples fail and replay for ever, or the
    spouts stop for good. Storm refuses such bolts too."""
    settings = plan.component_config(bolt.name)
    if (settings.get(constants.TOPOLOGY_RELIABILITY_MODE)
            != constants.TopologyReliabilityMode.ATLEAST_ONCE):
        return
    pending = int(settings.get(constants.TOPOLOGY_MAX_SPOUT_PENDING) or 0)
    if spec.is_count and pending and spec.length.n >= pending:
        raise InvalidTopologyError(
            f"bolt '{bolt.name}': its count windows hold {spec.length.n} tuples, not fewer "
            f"than {constants.TOPOLOGY_MAX_SPOUT_PENDING} ({pending}): under ATLEAST_ONCE the "
            "spouts would stop before the windows let any tuple go; raise it (0: no limit)")
    timeout = message_timeout(settings)
    if spec.is_count or timeout is None:
        return
    parts = [spec.length, spec.slide, spec.lag, spec.allowed_lateness]
    held = sum(part.seconds for part in parts if part is not None)
    if held >= timeout:
        raise InvalidTopologyError(
            f"bolt '{bolt.name}': its windows keep a tuple up to {held:g} s (length + slide, "
            f"+ lag + allowed lateness in event time), not less than "
            f"{constants.TOPOLOGY_MESSAGE_TIMEOUT_SECS} ({timeout:g} s): under ATLEAST_ONCE "
            "each tuple would time out and be replayed; raise the timeout or shorten the windows")


def _positive_int(value, what: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if isinstance(value, bool) or number < 1 or number != float(value):
        raise InvalidTopologyError(f"{what} must be an integer >= 1, given {value!r}")
    return number


def _component(spec: HeronComponentSpec, by_name: dict[str, HeronComponentSpec]) -> ComponentDef:
    name = spec.name
    base = Spout if spec.is_spout else Bolt
    if not (isinstance(spec.component_cls, type) and issubclass(spec.component_cls, base)):
        raise InvalidTopologyError(
            f"component '{name}': {spec.python_class_path} is not a {base.__name__} subclass")
    if not isinstance(spec.parallelism, Integral):  # as Heron: no "2", no 2.0
        raise InvalidTopologyError(
            f"component '{name}': parallelism must be an integer >= 1, given {spec.parallelism!r}")
    parallelism = _positive_int(spec.parallelism, f"component '{name}': parallelism")
    try:
        outputs = {s: tuple(f) for s, f in spec.output_streams().items()}
    except TypeError as err:
        raise InvalidTopologyError(str(err)) from None
    for stream, fields in outputs.items():
        if len(set(fields)) != len(fields):
            raise InvalidTopologyError(
                f"component '{name}': stream '{stream}' declares a field twice: {list(fields)}")
    if spec.is_spout:
        if spec.inputs:
            raise InvalidTopologyError(f"spout '{name}' cannot have inputs")
        if not outputs:
            raise InvalidTopologyError(f"spout '{name}' declares no outputs")
        inputs = []
    else:
        inputs = _subscriptions(name, spec.inputs, by_name)
    if not isinstance(spec.custom_config, dict):
        raise InvalidTopologyError(f"component '{name}': config must be a dict")
    return ComponentDef(name, spec.component_cls, spec.is_spout, parallelism, outputs, inputs,
                        dict(spec.custom_config))


def _subscriptions(name: str, inputs, by_name: dict[str, HeronComponentSpec]) -> list[Subscription]:
    if not inputs:
        raise InvalidTopologyError(f"bolt '{name}' has no inputs")
    if isinstance(inputs, dict):
        pairs = list(inputs.items())
    elif isinstance(inputs, (list, tuple)):
        pairs = [(source, Grouping.SHUFFLE) for source in inputs]
    else:
        raise InvalidTopologyError(f"bolt '{name}': inputs must be a dict or a list")
    subs = []
    for source, grouping in pairs:
        upstream, stream = _resolve_source(name, source, by_name)
        if not isinstance(grouping, GroupingSpec):
            raise InvalidTopologyError(
                f"bolt '{name}': input from '{upstream}' has an unknown grouping {grouping!r}")
        upstream_streams = by_name[upstream].output_streams()
        if stream not in upstream_streams:
            raise InvalidTopologyError(
                f"bolt '{name}' subscribes to stream '{stream}' of '{upstream}', which declares "
                f"only {sorted(upstream_streams)}")
        fields = upstream_streams[stream]
        missing = [f for f in grouping.fields if f not in fields]
        if missing:
            raise InvalidTopologyError(
                f"bolt '{name}': fields grouping on {missing} but stream '{stream}' of "
                f"'{upstream}' has fields {fields}")
        subs.append(Subscription(upstream, stream, grouping))
    return subs


def _resolve_source(name: str, source, by_name) -> tuple[str, str]:
    if isinstance(source, HeronComponentSpec):
        upstream, stream = source.name, Stream.DEFAULT_STREAM_ID
        if by_name.get(upstream) is not source:
            raise InvalidTopologyError(
                f"bolt '{name}' subscribes to component '{upstream}', which is not in the topology")
        return upstream, stream
    if isinstance(source, GlobalStreamId):
        upstream, stream = source.component_id, source.stream_id
    elif isinstance(source, str):
        upstream, stream = source, Stream.DEFAULT_STREAM_ID
    else:
        raise InvalidTopologyError(f"bolt '{name}': {source!r} is not a valid input")
    if upstream not in by_name:
        raise InvalidTopologyError(
            f"bolt '{name}' subscribes to unknown component '{upstream}'")
    return upstream, stream


def _check_acyclic(components: dict[str, ComponentDef]) -> None:
    """Cycles are rejected, except a component subscribing to its own broadcast, allreduce or
    allgather stream (then every task gets each round: an iteration)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for sub in components[name].inputs:
            if sub.component == name and sub.grouping.kind in TO_ALL:
                continue  # SPMD: a component exchanging values among its own tasks
            if state.get(sub.component) == 1:
                cycle = [*path[path.index(sub.component):], sub.component]
                raise InvalidTopologyError(
                    f"component '{name}' is part of a cycle: {' <- '.join(cycle)}")
            if sub.component not in state:
                visit(sub.component, [*path, sub.component])
        state[name] = 2

    for name in components:
        if name not in state:
            visit(name, [name])
