"""The cffi binding to libfabric, compiled from ``native/`` on first use and cached.

libfabric's calls (``fi_domain``, ``fi_send``, ``fi_cq_read``, ...) are static inline functions
in its headers, so only a compiled (cffi API-mode) binding reaches them. It is built once per
version of its source, Python and cffi, into ``$XDG_CACHE_HOME/heronpy/fabric-<hash>/``
(``~/.cache`` by default), and loaded from there afterwards: no compiler needed then.
Processes that build it at the same time each rename a complete file into place.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path
from types import ModuleType

NATIVE = Path(__file__).resolve().parents[2] / "native"
MODULE = "_heronpy_fabric"
INSTALL_HINT = "apt-get install libfabric-dev (Debian/Ubuntu; libfabric-devel on Fedora/RHEL)"


class FabricError(RuntimeError):
    """A libfabric call or operation failed; ``code`` is libfabric's error number (0: none)."""

    def __init__(self, message: str, code: int = 0):
        super().__init__(message)
        self.code = code


class FabricUnavailable(FabricError):
    """The binding cannot be built or loaded here: cffi, a C compiler, Python's or libfabric's
    headers, or the libfabric library itself is missing."""


@functools.cache
def load() -> ModuleType:
    """The compiled binding (``.ffi``, ``.lib``), built first if there is no cached build."""
    try:
        import cffi
    except ImportError:
        raise FabricUnavailable(
            "the fabric transport needs cffi: pip install 'heronpy[fabric]'") from None
    try:
        cdef = (NATIVE / "fabric.cdef").read_text()
        source = (NATIVE / "fabric.c").read_text()
    except FileNotFoundError as e:
        raise FabricUnavailable(f"the binding's sources are not installed ({e.filename}): "
                                f"install heronpy from its source tree (pip install -e)") from e
    key = hashlib.sha256("\0".join(
        (cdef, source, cffi.__version__, sys.implementation.cache_tag, sysconfig.get_platform())
    ).encode()).hexdigest()[:16]
    target = cache_root() / f"fabric-{key}" / (MODULE + sysconfig.get_config_var("EXT_SUFFIX"))
    if not target.exists():
        _build(cffi, cdef, source, target)
    return _import(target)


def cache_root() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "heronpy"


def _build(cffi, cdef: str, source: str, target: Path) -> None:
    compiler = _compiler()
    python_h = Path(sysconfig.get_paths()["include"], "Python.h")
    if not python_h.exists():
        raise FabricUnavailable(f"building the libfabric binding needs Python's headers "
                                f"({python_h} is missing): apt-get install python3-dev")
    probe = subprocess.run([compiler, "-E", "-x", "c", "-", "-o", os.devnull],
                           input="#include <rdma/fabric.h>\n", capture_output=True, text=True)
    if probe.returncode != 0:
        raise FabricUnavailable(f"libfabric's headers (rdma/fabric.h) are missing: {INSTALL_HINT}")
    ffi = cffi.FFI()
    ffi.cdef(cdef)
    ffi.set_source(MODULE, source, libraries=["fabric"])
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        try:
            built = ffi.compile(tmpdir=tmp)
        except cffi.VerificationError as e:
            raise FabricError(f"building the libfabric binding from {NATIVE} failed (the "
                              f"compiler's output is above; is {INSTALL_HINT} done?): {e}") from e
        os.replace(built, target)


def _compiler() -> str:
    """The C compiler cffi will use (``$CC`` or the one Python was built with), checked."""
    compiler = (os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(compiler) is None:
        raise FabricUnavailable(
            f"the libfabric binding is compiled on first use, but the C compiler {compiler!r} "
            f"is not installed: apt-get install gcc (or set CC)")
    return compiler


def _import(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(MODULE, path)
    try:
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    except ImportError as e:
        raise FabricUnavailable(f"cannot load the libfabric binding {path}: {e} "
                                f"(apt-get install libfabric1)") from e
    return module
