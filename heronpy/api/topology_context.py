"""The interface through which a spout or bolt learns about the running topology."""

from abc import abstractmethod


class TopologyContext:
    """Created by the task instance; see ``heronpy.instance.context`` for the implementation."""

    @abstractmethod
    def get_task_id(self) -> int: ...

    @abstractmethod
    def get_component_id(self) -> str: ...

    @abstractmethod
    def get_cluster_config(self) -> dict: ...

    @abstractmethod
    def get_topology_name(self) -> str: ...

    @abstractmethod
    def get_sources(self, component_id: str) -> dict | None: ...

    @abstractmethod
    def get_component_tasks(self, component_id: str) -> list[int] | None: ...

    def get_this_sources(self) -> dict | None:
        return self.get_sources(self.get_component_id())
