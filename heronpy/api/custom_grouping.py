"""The interface a custom grouping implements (Heron's ``ICustomGrouping``)."""

from abc import abstractmethod


class ICustomGrouping:
    """Chooses the destination tasks of each tuple; runs in the emitting task."""

    @abstractmethod
    def prepare(self, context, component: str, stream: str, target_tasks: list[int]) -> None:
        """Called once before any ``choose_tasks`` with the consumer's task ids."""

    @abstractmethod
    def choose_tasks(self, values: list) -> list[int]:
        """Returns the task ids (a subset of ``target_tasks``) that receive ``values``."""
