"""Where the real data is: ../shared/data beside the checkout (or AFTERSALES_DATA_DIR)."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def data_dir() -> Path:
    given = os.environ.get("AFTERSALES_DATA_DIR")
    candidates = [Path(given)] if given else []
    candidates += [REPO.parent / "shared" / "data", REPO / "shared" / "data"]
    for candidate in candidates:
        if (candidate / "uci-online-retail").is_dir():
            return candidate
    raise FileNotFoundError(
        "the real data was not found: expected ../shared/data beside the checkout "
        "(or set AFTERSALES_DATA_DIR)")
