"""Peer systems (bytewax, mpi4py, ...) live in their own virtual environments, so that their
dependencies never touch heronpy's: one per peer under ``~/.cache/heronpy/peers/NAME``,
created on first use and reused after."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
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


# -- the peers and how their programs (benchmarks/peer_programs/*.py) run ----------------------
PROGRAMS = Path(__file__).parent / "peer_programs"


def bytewax_python() -> Path:
    return peer_python("bytewax", ["bytewax==0.21.*"], "import bytewax.operators.windowing")


def streamz_python() -> Path:
    return peer_python("streamz", ["streamz==0.6.*"], "import streamz")


def pyflink_python() -> Path | None:
    """PyFlink's python, or None (and why, on stderr) when there is no Java to run it.
    Its venv takes ~850 MB and ~2 min to install here."""
    try:
        subprocess.run(["java", "-version"], capture_output=True, check=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as e:
        print(f"skipping PyFlink: `java -version` failed ({e}); "
              "apt-get install openjdk-17-jre-headless", file=sys.stderr)
        return None
    return peer_python("pyflink", ["apache-flink==2.3.*"], "import pyflink.datastream")


def script(python: Path, program: str) -> list[list[str]]:
    """The command line that runs ``program`` as a plain script."""
    return [[str(python), str(PROGRAMS / program)]]


def bytewax_processes(python: Path, program: str, processes: int) -> list[list[str]]:
    """Command lines that run ``program``'s ``flow`` in ``processes`` bytewax processes
    (``-i``/``-a``, one worker each), in one epoch (``-s 3600``: bounded, replayed input)."""
    base = [str(python), "-m", "bytewax.run", f"{PROGRAMS / program}:flow", "-s", "3600"]
    if processes == 1:
        return [base]
    addresses = ";".join(f"localhost:{port}" for port in free_ports(processes))
    return [[*base, "-i", str(i), "-a", addresses] for i in range(processes)]


def free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


@dataclass
class PeerRun:
    launched: float  # time.time() just before the processes started
    reports: list[dict]  # what each worker wrote (see peer_programs/common.py)


def run_program(argvs: list[list[str]], params: dict, out: Path,
                timeout: float = 3600) -> PeerRun:
    """Runs the processes ``argvs`` with ``params`` (JSON in ``$HERONPY_PEER``, plus ``out``,
    where they write reports; process i's stdout goes to ``out/stdout-i.txt``)."""
    env = {**os.environ, "PYTHONPATH": str(PROGRAMS),
           "HERONPY_PEER": json.dumps({**params, "out": str(out)})}
    launched = time.time()
    procs = []
    for i, argv in enumerate(argvs):
        with open(out / f"stdout-{i}.txt", "w") as stdout:
            procs.append(subprocess.Popen(argv, env=env, cwd=out, stdout=stdout,
                                          start_new_session=True))
    try:
        codes = [p.wait(timeout=timeout) for p in procs]
    finally:  # whatever they left behind (PyFlink's JVM, on a timeout) goes too
        for p in procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGKILL)
    if any(codes):
        raise RuntimeError(f"{argvs[0][1:3]} exited with {codes}")
    return PeerRun(launched, [json.loads(p.read_text()) for p in out.glob("*.json")])
