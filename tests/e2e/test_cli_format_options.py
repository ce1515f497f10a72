"""Every `--format` refuses what it does not know with exit 2, naming the choices: `dlq show
--format xml` printed a table and exited 0; every listing offers tsv (`policy history` and
`policy diff` offered only table, json and csv)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


@pytest.mark.parametrize(("args", "choices"), [
    (["dlq", "show", "0:0"], "'table', 'json'"),
    (["dlq", "list"], "'table', 'json', 'csv', 'tsv'"),
    (["policy", "history"], "'table', 'json', 'csv', 'tsv'"),
    (["policy", "diff"], "'table', 'json', 'csv', 'tsv'"),
], ids=lambda x: " ".join(x) if isinstance(x, list) else "")
def test_a_format_it_does_not_know_is_refused_naming_the_choices(args: list[str], choices: str
                                                                   ) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AFTERSALES_", "KAFKA_"))}
    env["AFTERSALES_KAFKA_BOOTSTRAP_SERVERS"] = "127.0.0.1:9"  # nothing is read before
    done = subprocess.run([sys.executable, "-m", "aftersales", *args, "--format", "xml"],
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    assert done.returncode == 2, done.stderr
    assert f"'xml' is not one of {choices}" in done.stderr
