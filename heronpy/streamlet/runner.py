"""Runs the topology a ``Builder`` describes (Heron's ``Runner``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from heronpy.api import topology as api_topology
from heronpy.api.topology import TopologyBuilder
from heronpy.streamlet.builder import Builder
from heronpy.streamlet.config import Config

if TYPE_CHECKING:
    from heronpy.local import RunResult


class Runner:
    """``Runner().run(name, config, builder)``, as in Heron."""

    def run(self, name: str, config: Config, builder: Builder) -> RunResult | None:
        """Builds topology ``name``. Inside ``heronpy submit`` (the file is being submitted)
        it hands the topology over, as Heron does, and returns ``None``; otherwise it runs it
        on this machine until it ends (``heronpy.local.run``, no timeout) and returns the
        ``RunResult``."""
        if not isinstance(name, str):
            raise TypeError(f"the topology name must be a string, given {name!r}")
        if not isinstance(config, Config):
            raise TypeError(f"config must be a heronpy.streamlet Config, given {config!r}")
        if not isinstance(builder, Builder):
            raise TypeError(f"builder must be a heronpy.streamlet Builder, given {builder!r}")
        topology = builder.build(TopologyBuilder(name))
        topology.set_config(dict(config.api_config))
        if api_topology.submit_hook is not None:
            topology.build_and_submit()
            return None
        import heronpy.local  # the runtime, only when running here (the loader imports us)

        return heronpy.local.run(topology, timeout=None)
