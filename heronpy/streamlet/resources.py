"""CPU and RAM a container asks for (Heron's ``Resources``), for ``Config``."""

from __future__ import annotations


class Resources:
    """Recorded in the topology config; the local engine does not enforce them.

    >>> Resources().set_cpu(2).set_ram_in_gb(1).get_ram()
    1073741824
    """

    def __init__(self):
        self._cpu = 0.0
        self._ram = 0

    def set_cpu(self, cpu: float) -> Resources:
        self._cpu = float(cpu)
        return self

    def set_ram(self, ram: int) -> Resources:
        """``ram`` in bytes."""
        self._ram = int(ram)
        return self

    def set_ram_in_mb(self, ram: float) -> Resources:
        return self.set_ram(ram * 1024 * 1024)

    def set_ram_in_gb(self, ram: float) -> Resources:
        return self.set_ram_in_mb(ram * 1024)

    def get_cpu(self) -> float:
        return self._cpu

    def get_ram(self) -> int:
        return self._ram

    def __repr__(self) -> str:
        return f"Resources(cpu={self._cpu}, ram={self._ram})"
