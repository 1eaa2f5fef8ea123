"""Defining a topology: ``TopologyBuilder`` or a class-style ``Topology`` (heronpy 0.20 API).

Both validate the topology when it is built and produce a ``LogicalPlan``; running it is the
job of ``heronpy submit`` or ``heronpy.local.run``.
"""

from __future__ import annotations

from collections.abc import Callable

from heronpy.api.component.component_spec import HeronComponentSpec
from heronpy.topology.logical import InvalidTopologyError, LogicalPlan, build_plan

submit_hook: Callable[[LogicalPlan], None] | None = None
"""Set by the topology loader: receives the plan of each ``build_and_submit()`` call."""


class TopologyType(type):
    """Metaclass of class-style topologies: collects the specs declared as class attributes."""

    def __new__(mcs, classname, bases, class_dict):
        cls = super().__new__(mcs, classname, bases, class_dict)
        if bases:  # a user topology, not ``Topology`` itself
            specs = []
            for attr, value in class_dict.items():
                if isinstance(value, HeronComponentSpec):
                    if value.name is None:
                        value.name = attr
                    specs.append(value)
            cls.topology_name = classname
            cls.logical_plan = build_plan(classname, specs, class_dict.get("config"))
        return cls


class Topology(metaclass=TopologyType):
    """Subclass it and declare specs as class attributes; the attribute names the component.

    >>> from heronpy.api.spout.spout import Spout
    >>> class Numbers(Spout):
    ...     outputs = ["n"]
    >>> class Tiny(Topology):
    ...     numbers = Numbers.spec(par=2)
    >>> Tiny.logical_plan.components["numbers"].parallelism
    2
    """

    logical_plan: LogicalPlan
    topology_name: str

    @classmethod
    def write(cls) -> None:
        """Hands the topology to the submitter (Heron's way of submitting a class topology)."""
        _submit(cls.logical_plan)


class TopologyBuilder:
    """Builds a topology step by step.

    >>> from heronpy.api.spout.spout import Spout
    >>> class Numbers(Spout):
    ...     outputs = ["n"]
    >>> builder = TopologyBuilder("numbers")
    >>> spout = builder.add_spout("numbers", Numbers, par=1)
    >>> builder.build().name
    'numbers'
    """

    def __init__(self, name: str):
        if not isinstance(name, str) or not name or name == "Topology":
            raise ValueError(f"invalid topology name: {name!r}")
        self.topology_name = name
        self._specs: dict[str, HeronComponentSpec] = {}
        self._config: dict = {}

    def add_spec(self, *specs: HeronComponentSpec) -> None:
        for spec in specs:
            if not isinstance(spec, HeronComponentSpec):
                raise TypeError(f"add_spec takes component specs, given {spec!r}")
            if spec.name is None:
                raise ValueError("TopologyBuilder cannot take a spec without a name")
            if spec.name in self._specs:
                raise InvalidTopologyError(f"component '{spec.name}': duplicate component name")
            self._specs[spec.name] = spec

    def add_spout(self, name: str, spout_cls, par: int = 1, config: dict | None = None,
                  optional_outputs: list | None = None) -> HeronComponentSpec:
        spec = spout_cls.spec(name=name, par=par, config=config, optional_outputs=optional_outputs)
        self.add_spec(spec)
        return spec

    def add_bolt(self, name: str, bolt_cls, par: int = 1, inputs=None, config: dict | None = None,
                 optional_outputs: list | None = None) -> HeronComponentSpec:
        spec = bolt_cls.spec(name=name, par=par, inputs=inputs, config=config,
                             optional_outputs=optional_outputs)
        self.add_spec(spec)
        return spec

    def set_config(self, config: dict) -> None:
        if not isinstance(config, dict):
            raise TypeError(f"set_config takes a dict, given {config!r}")
        self._config = config

    def build(self) -> LogicalPlan:
        """Validates the topology; raises ``InvalidTopologyError`` naming the component."""
        return build_plan(self.topology_name, list(self._specs.values()), self._config)

    def build_and_submit(self) -> None:
        """Hands the topology to ``heronpy submit`` (which runs this file)."""
        _submit(self.build())


def _submit(plan: LogicalPlan) -> None:
    if submit_hook is None:
        raise RuntimeError(
            f"topology '{plan.name}' was built outside a submission: run this file with "
            "`heronpy submit local FILE` (or pass the topology to heronpy.local.run)")
    submit_hook(plan)
