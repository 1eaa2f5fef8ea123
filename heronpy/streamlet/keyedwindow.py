"""A key and a window: what a keyed windowed result is about (Heron's ``KeyedWindow``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from heronpy.streamlet.window import Window


@dataclass(frozen=True, order=True)
class KeyedWindow:
    """The key of ``reduce_by_key_and_window`` and join results, with their window.

    >>> KeyedWindow("heron", Window(0, 3)).window.end
    3
    """

    key: Any
    window: Window
