"""Which time windows a time falls in, and the panes that windows are made of.

Window ``k`` is ``[k·slide, k·slide + length)``, for every integer ``k``: windows are aligned to
multiples of the slide from epoch 0, half-open, and a time belongs to every window that holds
it (to none if it falls in a gap between windows, when slide > length). Each slide period
``[k·slide, (k+1)·slide)`` is cut in two panes where a window ends in it, at
``k·slide + length mod slide``; so every window is a run of consecutive panes and a tuple is
stored once, in its pane. All times are integer nanoseconds.

>>> a = WindowAssigner(length=10, slide=4)
>>> [(a.start(k), a.end(k)) for k in a.windows_of(9)]
[(0, 10), (4, 14), (8, 18)]
>>> list(a.windows_of(8))   # a time on a boundary belongs to the window that starts there
[0, 1, 2]
>>> list(a.windows_of(10))  # and not to the one that ends there
[1, 2]
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WindowAssigner:
    length: int
    slide: int

    def start(self, k: int) -> int:
        return k * self.slide

    def end(self, k: int) -> int:
        return k * self.slide + self.length

    def windows_of(self, t: int) -> range:
        """The windows that hold time ``t``, in order."""
        return range((t - self.length) // self.slide + 1, t // self.slide + 1)

    def first_ending_after(self, t: int) -> int:
        """The first window whose end is after ``t``."""
        return (t - self.length) // self.slide + 1

    def last_ending_by(self, t: int) -> int:
        """The last window whose end is at or before ``t``."""
        return (t - self.length) // self.slide

    def pane_of(self, t: int) -> int:
        """Pane ``2k`` is ``[k·slide, k·slide + length mod slide)``, pane ``2k + 1`` the rest of
        the slide period."""
        k, offset = divmod(t, self.slide)
        return 2 * k + (offset >= self.length % self.slide)

    def panes_of(self, k: int) -> range:
        """The panes that window ``k`` is made of (some may be empty by construction)."""
        return range(2 * k, 2 * (k + self.length // self.slide) + 1)

    def panes_last_in(self, k: int) -> tuple[int, int]:
        """The panes that no window after ``k`` holds."""
        return 2 * k, 2 * k + 1
