"""Peer systems (bytewax, mpi4py, ...) live in their own virtual environments, so that their
dependencies never touch heronpy's: one per peer under ``~/.cache/heronpy/peers/NAME``,
created on first use and reused after."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

PEERS_DIR = Path.home() / ".cache" / "heronpy" / "peers"


def peer_python(name: str, requirements: list[str], probe: str) -> Path:
    """The python of peer ``name``'s venv, with ``requirements`` pip-installed; ``probe`` is
    Python code that must run in it (else the venv is made anew)."""
    folder = PEERS_DIR / name
    python = folder / "bin" / "python"
    check = [str(python), "-c", probe]
    if python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return python
    print(f"installing {' '.join(requirements)} into {folder} ...", file=sys.stderr)
    shutil.rmtree(folder, ignore_errors=True)
    PEERS_DIR.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", *requirements], check=True)
    subprocess.run(check, check=True)
    return python
