"""The libfabric binding: compiled on first use into the cache, loaded from there without a
compiler, and clear errors when what the build needs is missing (each case in a fresh process
with its own cache directory)."""

import subprocess
import sys

import pytest
from helpers import subprocess_env

from heronpy.transport import libfabric

try:
    libfabric.load()
except libfabric.FabricUnavailable as e:
    pytest.skip(f"libfabric transport unavailable: {e}", allow_module_level=True)

USE_FABRIC = "from heronpy.transport import fabric; print(len(fabric.providers()))"


def use_fabric(cache, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", USE_FABRIC], capture_output=True, text=True,
                          env={**subprocess_env(), "XDG_CACHE_HOME": str(cache), **env},
                          timeout=120)


def test_built_once_then_loaded_without_a_compiler(tmp_path):
    built = use_fabric(tmp_path)
    assert built.returncode == 0, built.stderr
    [extension] = (tmp_path / "heronpy").glob("fabric-*/_heronpy_fabric*.so")
    stamp = extension.stat().st_mtime_ns
    again = use_fabric(tmp_path, CC=str(tmp_path / "no-such-compiler"))
    assert again.returncode == 0, again.stderr
    assert again.stdout == built.stdout
    assert extension.stat().st_mtime_ns == stamp


def test_a_missing_compiler_is_named(tmp_path):
    result = use_fabric(tmp_path, CC="no-such-compiler")
    assert result.returncode != 0
    assert "FabricUnavailable" in result.stderr
    assert "'no-such-compiler' is not installed: apt-get install gcc" in result.stderr


def test_missing_libfabric_headers_name_the_package(tmp_path):
    compiler = tmp_path / "cc-without-libfabric"  # finds no header at all
    compiler.write_text("#!/bin/sh\nexit 1\n")
    compiler.chmod(0o755)
    result = use_fabric(tmp_path, CC=str(compiler))
    assert result.returncode != 0
    assert "apt-get install libfabric-dev" in result.stderr
