"""How a streamlet topology runs: delivery semantics, containers, user keys (Heron's
``Config``)."""

from __future__ import annotations

from typing import Any

from heronpy.api import api_constants
from heronpy.streamlet.resources import Resources

_MODES = {1: api_constants.TopologyReliabilityMode.ATMOST_ONCE,
          2: api_constants.TopologyReliabilityMode.ATLEAST_ONCE,
          3: api_constants.TopologyReliabilityMode.EFFECTIVELY_ONCE}


class Config:
    """The topology config ``Runner.run`` gives the topology.

    >>> config = Config({"sentences": 100})
    >>> config.set_num_containers(2)
    >>> config.api_config
    {'sentences': 100, 'topology.stmgrs': 2}
    """

    ATMOST_ONCE = 1
    ATLEAST_ONCE = 2
    EFFECTIVELY_ONCE = 3

    def __init__(self, config: dict[str, Any] | None = None):
        if config is not None and not isinstance(config, dict):
            raise TypeError(f"Config takes a dict, given {config!r}")
        self._api_config: dict[str, Any] = dict(config or {})

    @property
    def api_config(self) -> dict[str, Any]:
        """The topology config, with Heron's keys (``heronpy.api.api_constants``)."""
        return self._api_config

    def set_delivery_semantics(self, semantics: int) -> None:
        """``Config.ATMOST_ONCE`` (the default), ``ATLEAST_ONCE`` or
        ``EFFECTIVELY_ONCE``."""
        if semantics not in _MODES:
            raise ValueError(f"unknown delivery semantics {semantics!r}")
        self._api_config[api_constants.TOPOLOGY_RELIABILITY_MODE] = _MODES[semantics]

    def set_num_containers(self, ncontainers: int) -> None:
        self._api_config[api_constants.TOPOLOGY_STMGRS] = int(ncontainers)

    def set_container_resources(self, resources: Resources) -> None:
        if not isinstance(resources, Resources):
            raise TypeError(f"container resources must be Resources, given {resources!r}")
        self._api_config[api_constants.TOPOLOGY_CONTAINER_CPU_REQUESTED] = resources.get_cpu()
        self._api_config[api_constants.TOPOLOGY_CONTAINER_RAM_REQUESTED] = resources.get_ram()

    def set_user_config(self, key: str, value: Any) -> None:
        self._api_config[key] = value
