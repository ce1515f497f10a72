"""Child processes that die with the process that started them.

A parent that dies without cleaning up (SIGKILL, a test's timeout, a crash) would leave its
children running: a broker holding its port, an `aftersales run` spinning in kafka-python's
loop after its test topic was deleted. On Linux every child the project starts (brokers,
`aftersales run` workers of the demo, the tests and the benchmarks) goes through a tiny
launcher that asks the kernel to SIGKILL it when its parent dies (``prctl(PR_SET_PDEATHSIG)``),
then execs the real program: same pid, and the setting survives the exec. Elsewhere the
command runs as it is, and callers stop their children in teardown as they always do.

The kernel watches the *thread* that started the child: start children from a thread that
lives as long as they should (the main thread, as every caller here does).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

PR_SET_PDEATHSIG = 1
_LAUNCHER = (
    "import ctypes, os, signal, sys\n"
    "libc = ctypes.CDLL(None, use_errno=True)\n"
    f"if libc.prctl({PR_SET_PDEATHSIG}, int(signal.SIGKILL), 0, 0, 0) != 0:\n"
    "    raise OSError(ctypes.get_errno(), 'prctl(PR_SET_PDEATHSIG) failed')\n"
    "if os.getppid() != int(sys.argv[1]):\n"  # the parent died before the signal was set
    "    os._exit(1)\n"
    "os.execvp(sys.argv[2], sys.argv[2:])\n"
)


def bound_to_parent(argv: Sequence[str]) -> list[str]:
    """The command line that runs ``argv`` as a child killed when this process dies."""
    if not argv:
        raise ValueError("no command to run")
    if not sys.platform.startswith("linux"):
        return list(argv)
    return [sys.executable, "-I", "-S", "-c", _LAUNCHER, str(os.getpid()), *argv]


def popen(argv: Sequence[str], **kwargs: Any) -> subprocess.Popen[Any]:
    """``subprocess.Popen`` of a child that dies with this process."""
    return subprocess.Popen(bound_to_parent(argv), **kwargs)


def run(argv: Sequence[str], **kwargs: Any) -> subprocess.CompletedProcess[Any]:
    """``subprocess.run`` of a child that dies with this process."""
    return subprocess.run(bound_to_parent(argv), **kwargs)
