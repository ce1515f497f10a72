"""Resolution paths as the complaints insight lists them: the most frequent first; among paths
as frequent, escalations in the ladder's order (supervisor, platform arbitration, regulator);
weekly breaches as CSV."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from aftersales.output import emit_rows
from projections.insights.complaints import breaches, drivers, path_order, paths
from projections.insights.view import json_row


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


def test_a_week_without_a_judged_resolution_keeps_the_csv_columns_of_the_others(
        capsys: pytest.CaptureFixture[str]) -> None:
    """resolution_late is None in a week where no resolution was due yet: its five CSV columns
    stay (empty), so the row lines up with the header (a missing rate made the CSV fail)."""
    def filed(at: str, resolution_judged: bool) -> dict[str, Any]:
        return {"filed_at": at, "response_judged": True, "response_late": False,
                "resolution_judged": resolution_judged, "resolution_late": False}

    view = breaches([filed("2026-03-02T10:00:00+00:00", True),
                     filed("2026-03-09T10:00:00+00:00", False)])
    assert view.rows[1]["resolution_late"] is None
    emit_rows([view.flat_row(r) for r in view.rows], "csv", view.title, view.flat_columns)
    printed = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["resolution_late_n"] for r in printed] == ["1", ""]
    assert list(printed[1]) == view.flat_columns


def test_a_week_with_only_resolutions_judged_is_listed() -> None:
    """A week whose complaints had a resolution judged but no first response judged (no
    first-response deadline, or not answered and not breached yet) keeps its row: it was left
    out, and its late resolutions with it, because the weeks were those of first responses."""
    def filed(at: str, response_judged: bool) -> dict[str, Any]:
        return {"filed_at": at, "response_judged": response_judged, "response_late": False,
                "resolution_judged": True, "resolution_late": True}

    view = breaches([filed("2026-03-02T10:00:00+00:00", True),
                     filed("2026-03-09T10:00:00+00:00", False)])
    assert [r["week"] for r in view.rows] == ["2026-03-02", "2026-03-09"]
    later = view.rows[1]
    assert later["first_response_late"] is None and later["flag"] is None
    assert (later["resolution_late"].k, later["resolution_late"].n) == (1, 1)


def test_mean_satisfaction_is_a_float_in_every_row() -> None:
    """satisfaction_mean keeps one JSON type: scores 2 and 2 averaged to the integer 2 (JSON
    `2`) beside `2.5` in the next row, so a typed client of the API saw int and float."""
    rows = [{**complaint("accepted refund"), "satisfaction": 2, "category": "late",
             "channel": "chat"} for _ in range(2)]
    rows += [{**complaint("open"), "satisfaction": s, "category": "damaged", "channel": "chat"}
             for s in (2, 3)]
    for row in rows:
        row.update(first_response_hours=None, resolution_hours=None, response_judged=False,
                   response_late=False, proactive=0)
    for view in (paths(rows), drivers(rows)):
        means = [json_row(r)["satisfaction_mean"] for r in view.rows]
        assert sorted(means) == [2.0, 2.5]
        assert all(type(m) is float for m in means), means
