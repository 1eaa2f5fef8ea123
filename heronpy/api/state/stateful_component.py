"""What a spout or bolt implements to keep state across failures (EFFECTIVELY_ONCE)."""

from __future__ import annotations

from abc import abstractmethod

from heronpy.api.state.state import State


class StatefulComponent:
    """Mix into a ``Spout`` or ``Bolt``. ``init_state`` is called once, before ``initialize``,
    with the state of the last complete checkpoint (empty on a first start); keep the object and
    update it as you go. ``pre_save`` is called just before each checkpoint of the state."""

    @abstractmethod
    def init_state(self, stateful_state: State) -> None: ...

    def pre_save(self, checkpoint_id: int) -> None:
        """Bring the state up to date: it is saved right after this returns."""
