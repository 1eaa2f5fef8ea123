"""The watermark of a bolt task: how far event time has surely progressed on all its inputs.

Each input channel (an upstream task) has its own watermark: the largest timestamp it sent
minus ``lag``, or the largest watermark it sent in band, whichever is larger (-inf before
either, +inf once the channel ended). The task's watermark is the smallest over its channels
and never goes back. With an ``idle_timeout``, a channel that has sent nothing for that long
stops holding the watermark back until it sends again; when every open channel is idle the
watermark stays where it is. Times are integer nanoseconds.

>>> w = Watermarks([1, 2], lag=5, idle_timeout=None, now=None)
>>> w.on_timestamp(1, 100, now=None)
>>> w.value
-inf
>>> w.on_timestamp(2, 50, now=None)
>>> w.value
45
"""

from __future__ import annotations

from collections.abc import Iterable

from heronpy.windows.timebase import INF


class Watermarks:
    STATE = ("value", "_open", "_heard")

    def __init__(self, channels: Iterable[int], lag: int, idle_timeout: int | None,
                 now: int | None):
        """``now`` (needed with an ``idle_timeout`` only) starts every channel's idle time."""
        self._open: dict[int, int | float] = dict.fromkeys(channels, -INF)  # open channels
        if not self._open:
            raise ValueError("a window operator needs at least one input channel")
        self._inputs = sorted(self._open)
        self._heard = dict.fromkeys(self._open, now)  # when each channel last sent
        self._lag = lag
        self._idle_timeout = idle_timeout
        self.value: int | float = -INF

    @property
    def ended(self) -> bool:
        """Every channel has ended (the watermark is +inf)."""
        return not self._open

    def check_open(self, channel: int) -> None:
        """Raises unless ``channel`` is an input that has not ended; the ``on_*`` methods
        expect an open channel."""
        if channel not in self._open:
            state = "has ended" if channel in self._inputs else "is not an input"
            raise ValueError(f"channel {channel} {state} (inputs: {self._inputs})")

    def on_timestamp(self, channel: int, t: int, now: int | None) -> None:
        self.on_watermark(channel, t - self._lag, now)

    def on_watermark(self, channel: int, watermark: int | float, now: int | None) -> None:
        self._heard[channel] = now
        if watermark > self._open[channel]:
            self._open[channel] = watermark
            self.refresh(now)

    def on_end(self, channel: int, now: int | None) -> None:
        del self._open[channel]
        self.refresh(now)

    def refresh(self, now: int | None) -> None:
        """Recomputes the watermark; ``now`` tells which channels are idle."""
        active = self._open
        if self._idle_timeout is not None:
            active = {c: v for c, v in active.items() if now - self._heard[c] < self._idle_timeout}
        if active:
            self.value = max(self.value, min(active.values()))
        elif not self._open:
            self.value = INF
