"""The state a stateful spout or bolt keeps: Heron's key/value ``State`` interface."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterator


class State:
    """A key/value store that heronpy checkpoints (EFFECTIVELY_ONCE) and gives back, as it was
    at the last complete checkpoint, after a failure."""

    @abstractmethod
    def put(self, key, value) -> None: ...

    @abstractmethod
    def get(self, key, default=None): ...

    @abstractmethod
    def enumerate(self) -> Iterator: ...

    @abstractmethod
    def clear(self) -> None: ...


class HashMapState(State, dict):
    """The default ``State``: a dict (keys and values must be picklable), with Heron's methods.

    >>> state = HashMapState()
    >>> state.put("offset", 3); state.get("offset"), state.get("missing", 0)
    (3, 0)
    """

    def put(self, key, value) -> None:
        self[key] = value

    def get(self, key, default=None):
        return dict.get(self, key, default)

    def enumerate(self) -> Iterator:
        return enumerate(self)
