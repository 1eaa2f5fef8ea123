"""The base of the windowed operations: a ``WindowedBolt`` whose windows come from the
``WindowConfig`` in its component config, so one class serves every window size."""

from __future__ import annotations

from heronpy.api.bolt.windowed_bolt import WindowedBolt
from heronpy.streamlet.impl.component import WINDOW, StreamletComponent, element
from heronpy.windows import WindowSpec


class WindowedStage(StreamletComponent, WindowedBolt):
    """In event time, a tuple's time is the timestamp extractor applied to its element."""

    @classmethod
    def window_spec(cls, config: dict) -> WindowSpec:
        return config[WINDOW].spec(cls.timestamp)

    def initialize(self, config, context):
        super().initialize(config, context)
        self._timestamp_of = config[WINDOW].timestamp_extractor

    def timestamp(self, tup) -> float:
        return self._timestamp_of(element(tup))
