"""The class a spout extends (Heron's ``heronpy.api.spout.spout.Spout``)."""

from __future__ import annotations

from heronpy.api.component.base_component import BaseComponent
from heronpy.api.component.component_spec import HeronComponentSpec
from heronpy.api.stream import Stream


class Spout(BaseComponent):
    """A source of tuples. ``next_tuple`` is called again and again; it emits zero or more
    tuples per call. A bounded spout ends by raising ``StopIteration``.

    >>> class Numbers(Spout):
    ...     outputs = ["n"]
    ...     def initialize(self, config, context):
    ...         self.it = iter(range(3))
    ...     def next_tuple(self):
    ...         self.emit([next(self.it)])
    """

    @classmethod
    def spec(cls, name: str | None = None, par: int = 1, config: dict | None = None,
             optional_outputs: list | None = None) -> HeronComponentSpec:
        return cls._make_spec(name, True, par, None, config, optional_outputs)

    def emit(self, tup, tup_id=None, stream: str = Stream.DEFAULT_STREAM_ID,
             direct_task: int | None = None, need_task_ids: bool = False):
        """Sends ``tup`` (a list of values, one per field) on ``stream``; returns the task ids
        it went to when ``need_task_ids``. ``tup_id`` asks for ack/fail (ATLEAST_ONCE)."""
        return self.delegate.emit(tup, tup_id, stream, direct_task, need_task_ids)

    def initialize(self, config: dict, context) -> None:
        """Called once in the task process before the first ``next_tuple``."""

    def next_tuple(self) -> None:
        """Emits the next tuple(s); raise ``StopIteration`` when the input is exhausted."""

    def ack(self, tup_id) -> None:
        """The tuple tree rooted at ``tup_id`` was fully processed."""

    def fail(self, tup_id) -> None:
        """The tuple tree rooted at ``tup_id`` failed or timed out."""

    def activate(self) -> None:
        """The topology was activated: ``next_tuple`` will be called again."""

    def deactivate(self) -> None:
        """The topology was deactivated: ``next_tuple`` will not be called until activation."""

    def close(self) -> None:
        """Called when the task shuts down cleanly."""
