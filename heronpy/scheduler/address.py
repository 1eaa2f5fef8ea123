"""The address a node's processes bind and advertise, so that processes on other nodes (and
the client on the submitting host) can reach them."""

from __future__ import annotations

import ipaddress
import socket
import subprocess


def node_address(toward: str | None = None) -> str:
    """The source address of this node's route toward ``toward`` (the topology master's
    address), or without it this host's first IPv4 address that is not loopback (the first
    one ``hostname -I`` lists); ``127.0.0.1`` when there is none."""
    if toward is not None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect((toward, 9))  # a UDP connect sends nothing: it only picks the route
            return probe.getsockname()[0]
    usable = (a for a in map(ipaddress.ip_address, _host_addresses())
              if a.version == 4 and not a.is_loopback)
    return str(next(usable, "127.0.0.1"))


def _host_addresses() -> list[str]:
    try:
        listed = subprocess.run(["hostname", "-I"], capture_output=True, text=True, timeout=10)
        if listed.returncode == 0:
            return listed.stdout.split()
    except (OSError, subprocess.TimeoutExpired):
        pass
    try:
        return socket.gethostbyname_ex(socket.gethostname())[2]
    except OSError:
        return []
