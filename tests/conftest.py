import shutil
import tempfile
import uuid

import pytest
from helpers import MARK_ENV, ProcessGuard

from heronpy.windows import operator as window_operator

# topology files are run by heronpy (as __main__), not imported by pytest
collect_ignore = ["topologies"]


@pytest.fixture(autouse=True)
def process_guard(monkeypatch):
    """Every test: processes it starts carry a fresh mark; none may outlive the test."""
    mark = uuid.uuid4().hex
    monkeypatch.setenv(MARK_ENV, mark)
    guard = ProcessGuard(mark)
    yield guard
    guard.assert_clean()


@pytest.fixture(autouse=True)
def rundir_parent(monkeypatch, tmp_path_factory):
    """Every test: topology run directories (kept by heronpy when a run fails, for its logs)
    go to a fresh short directory (ipc socket paths must stay short), removed afterwards."""
    tmp_path_factory.getbasetemp()  # pytest's own temp root stays where it is
    parent = tempfile.mkdtemp(prefix="heronpy-tests-")
    monkeypatch.setattr(tempfile, "tempdir", parent)
    monkeypatch.setenv("TMPDIR", parent)  # and in subprocesses (the CLI)
    yield parent
    shutil.rmtree(parent, ignore_errors=True)


@pytest.fixture
def every_batch_vectorised(monkeypatch):
    """Window operators take even one tuple down ``on_tuples``' vectorised path."""
    monkeypatch.setattr(window_operator, "BATCH_MIN", 1)
