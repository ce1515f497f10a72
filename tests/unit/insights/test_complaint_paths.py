"""Resolution paths as the complaints insight lists them: the most frequent first; among paths
as frequent, escalations in the ladder's order (supervisor, platform arbitration, regulator)."""

from __future__ import annotations

from typing import Any

from projections.insights.complaints import path_order, paths


def complaint(path: str) -> dict[str, Any]:
    return {"path": path, "satisfaction": None, "resolved_at": None, "reopened": 0}


def test_escalation_paths_as_frequent_follow_the_ladder() -> None:
    names = ["escalated to regulator", "open", "escalated to platform_arbitration",
             "accepted refund", "escalated to supervisor"]
    listed = [r["resolution_path"] for r in paths([complaint(n) for n in names]).rows]
    assert listed == ["accepted refund", "escalated to supervisor",
                      "escalated to platform_arbitration", "escalated to regulator", "open"]


def test_frequency_comes_before_the_ladder() -> None:
    rows = [complaint("escalated to regulator")] * 2 + [complaint("escalated to supervisor")]
    listed = [r["resolution_path"] for r in paths(rows).rows]
    assert listed == ["escalated to regulator", "escalated to supervisor"]


def test_a_level_off_the_ladder_comes_after_its_steps() -> None:
    assert path_order("escalated to ombudsman") > path_order("escalated to regulator")
    assert path_order("open") == ("open", 0)
