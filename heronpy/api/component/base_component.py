"""What spouts and bolts share: the runtime delegate, logging and ``spec``."""

from __future__ import annotations

import logging

from heronpy.api.component.component_spec import HeronComponentSpec

_LEVELS = {"trace": logging.DEBUG, "debug": logging.DEBUG, "info": logging.INFO,
           "warn": logging.WARNING, "warning": logging.WARNING, "error": logging.ERROR}


class BaseComponent:
    """Base of ``Spout`` and ``Bolt``; the task instance creates it with itself as ``delegate``."""

    outputs: list = []

    def __init__(self, delegate=None):
        self.delegate = delegate
        self.logger = getattr(delegate, "logger", logging.getLogger(type(self).__name__))

    def log(self, message: str, level: str | None = None) -> None:
        """Logs to the task's log; ``level``: trace, debug, info (default), warn or error."""
        self.logger.log(_LEVELS.get((level or "info").lower(), logging.INFO), message)

    @classmethod
    def _make_spec(cls, name, is_spout, par, inputs, config, optional_outputs):
        outputs = list(cls.outputs)
        for out in optional_outputs or []:
            outputs.append(out)
        return HeronComponentSpec(name, cls, is_spout, par, inputs, outputs, config)
