"""Children the project starts (brokers, `aftersales run` workers of the demo and the tests) die
with the process that started them, even when it is killed without any cleanup."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from aftersales import children

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="PR_SET_PDEATHSIG is Linux's")
REPO = Path(__file__).resolve().parents[2]


def alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie waiting for its reaper has stopped running)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.05)
    return False


def parent_of_a_child(code: str) -> tuple[subprocess.Popen[str], int]:
    """A Python process that starts a child with ``code`` (which prints the child's pid), and
    then waits to be killed."""
    parent = subprocess.Popen(
        [sys.executable, "-c", f"{code}\nimport time\ntime.sleep(600)"], cwd=REPO,
        stdout=subprocess.PIPE, text=True, start_new_session=True)
    assert parent.stdout is not None
    line = parent.stdout.readline().strip()
    assert line.isdigit(), f"the parent printed {line!r}"
    return parent, int(line)


def test_the_child_is_the_program_itself_under_its_own_pid() -> None:
    child = children.popen(["sleep", "30"])
    try:
        deadline = time.monotonic() + 10
        while Path(f"/proc/{child.pid}/cmdline").read_bytes() != b"sleep\x0030\x00":
            assert time.monotonic() < deadline, "the launcher did not exec the program"
            time.sleep(0.02)
    finally:
        child.kill()
        child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL


def test_a_child_dies_when_its_parent_is_killed() -> None:
    parent, pid = parent_of_a_child(
        "from aftersales import children\n"
        "child = children.popen(['sleep', '600'])\n"
        "print(child.pid, flush=True)")
    try:
        assert alive(pid)
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
        assert gone_within(pid, 20), "the child outlived its killed parent"
    finally:
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


def test_a_broker_dies_when_the_process_that_started_it_is_killed(tmp_path: Path) -> None:
    parent, pid = parent_of_a_child(
        "from aftersales.brokers import start_broker\n"
        f"broker = start_broker('tansu', __import__('pathlib').Path({str(tmp_path)!r}))\n"
        "print(broker.pid, flush=True)")
    try:
        assert alive(pid)
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
        assert gone_within(pid, 20), "the broker outlived the process that started it"
    finally:
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


def test_a_child_whose_parent_died_before_the_launcher_ran_does_not_start() -> None:
    argv = children.bound_to_parent(["sleep", "600"])
    argv[argv.index(str(os.getpid()))] = "1"  # as if adopted by init before the launcher ran
    done = subprocess.run(argv, timeout=30, check=False)
    assert done.returncode == 1
