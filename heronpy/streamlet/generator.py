"""A source written as a class: one element per ``get()`` call (Heron's ``Generator``)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from heronpy.streamlet.context import Context


class Generator(ABC):
    """Subclass it and pass an instance (or the class) to ``Builder.new_source``.

    Each task of the source gets its own copy: ``setup`` runs once in the task process, then
    ``get`` is called again and again. ``get`` returns the next element, ``None`` when it has
    nothing at the moment, and raises ``StopIteration`` when the source is exhausted (which
    ends the topology once everything downstream is done).

    >>> class Countdown(Generator):
    ...     def setup(self, context):
    ...         self.left = 3
    ...     def get(self):
    ...         if self.left == 0:
    ...             raise StopIteration
    ...         self.left -= 1
    ...         return self.left
    """

    def setup(self, context: Context) -> None:  # noqa: B027 - an optional hook
        """Called once in the task process before the first ``get``."""

    @abstractmethod
    def get(self) -> Any:
        """The next element; ``None`` for none yet; raise ``StopIteration`` at the end."""
