"""Every command's refusal through `aftersales submit`: a domain refusal exits 1 (not 2, which
means invalid input), and a refused command stores nothing. One store holds cases in every state
the refusals need; the CLI runs in-process (the same code path as the installed command)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from typer.testing import CliRunner

from aftersales.bootstrap import open_app
from aftersales.cli import app as cli_app
from aftersales.settings import eventsourcing_env
from tests.factories import T0, caller, delivered_order, order_placed

AT = (T0 + timedelta(days=20)).isoformat()  # after every case's last change


class Store:
    """Cases in the states the refusals need, on one SQLite file, with the test principals."""

    def __init__(self, path: Path) -> None:
        self.url = f"sqlite:///{path}"
        app = open_app(eventsourcing_env(self.url, None))
        self.app = app
        delivered_order(app, "o-1")  # line 1: 2 x 20.00 EUR, line 2: 1 x 60.00 EUR
        delivered_order(app, "o-big", lines=[{"line_id": "1", "sku": "TV", "quantity": 1,
                                               "category": "electronics",
                                               "unit_price": "900.00"}])
        at = T0 + timedelta(days=5)
        ids: dict[str, UUID] = {}
        buyer, agent, psp = (caller(app, n) for n in ("customer-c-1", "agent-1", "payments-1"))
        caller(app, "customer-c-2")

        def request(name: str, line: str, reason: str, **extra: Any) -> None:
            ids[name] = uuid4()
            app.returns.request(buyer, ids[name], "o-1", [{"line_id": line, "quantity": 1}],
                                reason, "refund", at, **extra)

        request("approved", "2", "changed_mind")
        request("rejected", "2", "changed_mind")  # the unit is in the first return already
        request("returnless", "1", "defective", return_shipping_estimate=Decimal("35.00"))
        for name, order, amount in (("awaiting", "o-big", "300.00"), ("settled", "o-1", "10.00"),
                                    ("issued", "o-1", "5.00")):
            ids[name] = uuid4()
            app.refunds.request(agent, ids[name], order, "goodwill", "sorry", at,
                                amount=Decimal(amount))
        app.refunds.issue(psp, ids["settled"], at)
        app.refunds.issue(psp, ids["issued"], at)
        app.refunds.confirm_settled(psp, ids["settled"], "psp-1", at)
        for name in ("acknowledged", "closed"):
            ids[name] = uuid4()
            app.complaints.file(buyer, ids[name], "email", "service", "slow", at,
                                order_id="o-1")
        app.complaints.acknowledge(agent, ids["acknowledged"], at)
        app.complaints.resolve(agent, ids["closed"], "answered", at)
        app.complaints.close(agent, ids["closed"], at, 4)
        self.ids = ids

    def events(self) -> int:
        return self.app.store.recorder.max_notification_id() or 0


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    made = Store(tmp_path_factory.mktemp("exit-codes") / "events.sqlite")
    yield made
    made.app.close()


def submit(store: Store, command: dict[str, Any], monkeypatch: pytest.MonkeyPatch,
           as_: str) -> Any:
    monkeypatch.setenv("AFTERSALES_DATABASE_URL", store.url)
    monkeypatch.delenv("AFTERSALES_POSTGRES_SCHEMA", raising=False)
    return CliRunner().invoke(cli_app, ["submit", "-", "--as", as_],
                              input=json.dumps({"at": AT, **command}))


ACTORS = ("by", "requested_by", "filed_by", "agent", "author", "approver")
PRINCIPAL = {"c-1": "customer-c-1", "c-2": "customer-c-2", "agent-1": "agent-1",
             "agent-2": "agent-2", "warehouse": "warehouse-1", "tech": "warehouse-1",
             "payments": "payments-1", "sup-1": "sup-1", None: "payments-1"}


def sent_as(fields: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The principal a row's command is sent as (named where the body once named its actor),
    and the body without it."""
    named = next((fields[k] for k in ACTORS if k in fields), None)
    return PRINCIPAL[named], {k: v for k, v in fields.items() if k not in ACTORS}


# (command, the case it acts on, its other fields, what the refusal message says)
REFUSALS: list[tuple[str, str, dict[str, Any], str]] = [
    ("RequestReturn", "approved", {"order_id": "o-1", "reason": "changed_mind",
                                   "lines": [{"line_id": "1", "quantity": 1}],
                                   "requested_by": "agent-1"}, "exists already"),  # staff:
    # a customer names no case id (denied, test_cli_customer_choices)
    ("ApproveReturn", "approved", {"by": "agent-1"}, "cannot approve while approved"),
    ("RejectReturn", "approved", {"by": "agent-1", "reason": "x"}, "cannot reject"),
    ("CancelReturn", "rejected", {"by": "c-1"}, "cannot cancel while rejected"),
    ("IssueReturnLabel", "returnless", {"by": "agent-1", "carrier": "DHL",
                                        "tracking_number": "T-1"}, "returnless"),
    ("ReceiveReturn", "rejected", {"by": "warehouse"}, "cannot receive the goods"),
    ("InspectReturn", "approved", {"by": "warehouse", "grade": "A"}, "cannot inspect"),
    ("ResolveReturn", "approved", {"by": "agent-1"}, "cannot resolve"),
    ("CloseReturn", "approved", {"by": "agent-1"}, "cannot close while approved"),
    ("SendToRepair", "approved", {"by": "agent-1", "repairer": "FixIt"},
     "cannot send the goods to repair"),
    ("DiagnoseRepair", "approved", {"by": "tech", "fault": "hinge", "repairable": True},
     "cannot diagnose the repair"),
    ("CompleteRepair", "approved", {"by": "tech", "repaired": True},
     "cannot complete the repair"),
    ("ShipRepairedItem", "approved", {"by": "tech", "carrier": "DHL", "tracking_number": "R"},
     "cannot ship the repaired goods back"),
    ("ReportRepairFailed", "approved", {"by": "c-1", "fault": "hinge"},
     "cannot report the repair failed"),
    ("ChooseRemedy", "approved", {"by": "c-1", "remedy": "refund"}, "cannot choose a remedy"),
    ("RequestRefund", "awaiting", {"order_id": "o-1", "source": "goodwill", "reason": "x",
                                   "amount": "1.00", "requested_by": "agent-2"},
     "exists already"),
    ("ApproveRefund", "settled", {"by": "sup-1"}, "cannot approve while settled"),
    ("RejectRefund", "settled", {"by": "agent-1", "reason": "x"}, "cannot reject"),
    ("IssueRefund", "awaiting", {"by": "payments"}, "cannot issue"),
    ("ConfirmRefundSettled", "awaiting", {"provider_ref": "psp-9"}, "cannot confirm"),
    ("RecordRefundFailed", "settled", {"error": "timeout"}, "cannot record a failure"),
    ("FileComplaint", "acknowledged", {"customer_id": "c-1", "channel": "email",
                                       "category": "service", "description": "x",
                                       "filed_by": "agent-1"}, "exists already"),
    ("AcknowledgeComplaint", "acknowledged", {"agent": "agent-1"}, "cannot acknowledge again"),
    ("AddComplaintMessage", "closed", {"direction": "out", "author": "agent-1", "text": "hi"},
     "cannot add a message while closed"),
    ("ProposeResolution", "closed", {"agent": "agent-1", "resolution": "apology"},
     "cannot propose"),
    ("RespondToProposal", "acknowledged", {"accepted": True, "by": "c-1"}, "cannot respond"),
    ("EscalateComplaint", "closed", {"by": "agent-1", "level": "supervisor", "reason": "x"},
     "cannot escalate"),
    ("ResolveComplaint", "closed", {"by": "agent-1", "summary": "x"}, "cannot resolve"),
    ("CloseComplaint", "acknowledged", {"by": "agent-1"}, "cannot close"),
    ("ReopenComplaint", "acknowledged", {"by": "c-1", "reason": "x"}, "cannot reopen"),
]


def test_every_command_has_a_refusal_here() -> None:
    from schemas.commands import AnyCommand

    names = {model.__name__ for model in AnyCommand.__args__}  # type: ignore[attr-defined]
    assert names == {name for name, *_ in REFUSALS}


@pytest.mark.parametrize(("name", "case", "fields", "message"), REFUSALS,
                         ids=[f"{r[0]}-{r[3][:20]}" for r in REFUSALS])
def test_a_domain_refusal_exits_1_says_why_and_stores_nothing(
        store: Store, monkeypatch: pytest.MonkeyPatch, name: str, case: str,
        fields: dict[str, Any], message: str) -> None:
    before = store.events()
    as_, body = sent_as(fields)
    done = submit(store, {"command": name, "case_id": str(store.ids[case]), **body},
                  monkeypatch, as_)
    assert done.exit_code == 1, done.output
    said = " ".join(done.output.split())
    assert f"{name} refused" in said and message in said
    assert store.events() == before


@pytest.mark.parametrize(("command", "code", "message"), [
    ({"command": "ApproveReturn", "case_id": str(UUID(int=7)), "by": "agent-1"}, 3, "no "),
    ({"command": "RequestRefund", "order_id": "o-1", "source": "goodwill", "reason": "x",
      "amount": "1.005", "requested_by": "agent-2"}, 2, "more decimals than EUR allows"),
    ({"command": "RequestRefund", "order_id": "o-1", "source": "return", "reason": "x",
      "amount": "1.00", "requested_by": "agent-2"}, 2,
     "source_case_id: a refund from a return names its source case"),
    ({"command": "RequestRefund", "order_id": "o-1", "source": "complaint", "reason": "x",
      "lines": [{"line_id": "1", "quantity": 1}], "requested_by": "agent-2"}, 2,
     "source_case_id: a refund from a complaint names its source case"),
    ({"command": "RequestReturn", "order_id": "o-1", "reason": "changed_mind",
      "lines": [{"line_id": "1", "quantity": 3}], "requested_by": "c-1"}, 2, "quantity 3"),
    ({"command": "RequestReturn", "order_id": "o-404", "reason": "changed_mind",
      "lines": [{"line_id": "1", "quantity": 1}], "requested_by": "c-1"}, 3, "not known"),
    ({"command": "FileComplaint", "customer_id": "c-2", "order_id": "o-1", "channel": "email",
      "category": "service", "description": "x", "filed_by": "agent-1"}, 3, "has no order"),
    ({"command": "FileComplaint", "customer_id": "c-2", "order_id": "o-1", "channel": "email",
      "category": "service", "description": "x", "filed_by": "c-2"}, 3, "not known"),
])
def test_invalid_input_exits_2_and_what_does_not_exist_exits_3(
        store: Store, monkeypatch: pytest.MonkeyPatch, command: dict[str, Any], code: int,
        message: str) -> None:
    before = store.events()
    as_, body = sent_as(command)
    done = submit(store, body, monkeypatch, as_)
    assert done.exit_code == code, done.output
    assert message in " ".join(done.output.split())
    assert store.events() == before


@pytest.mark.parametrize(("name", "case", "fields", "recorded"), [
    ("IssueRefund", "issued", {}, "issued already (attempt 1"),
    ("IssueRefund", "settled", {}, "issued already and is settled (provider_ref psp-1)"),
    ("ConfirmRefundSettled", "settled", {"provider_ref": "psp-1"},
     "settled already under provider_ref psp-1"),
])
def test_an_exact_retry_of_a_payment_step_is_acknowledged_with_0_and_stores_nothing(
        store: Store, monkeypatch: pytest.MonkeyPatch, name: str, case: str,
        fields: dict[str, Any], recorded: str) -> None:
    """A payments service retrying after a timeout learns the step is recorded already."""
    before = store.events()
    done = submit(store, {"command": name, "case_id": str(store.ids[case]), **fields},
                  monkeypatch, "payments-1")
    assert done.exit_code == 0, done.output
    said = " ".join(done.output.split())
    assert f"{name} already recorded" in said and recorded in said
    answer = json.loads(next(line for line in done.output.splitlines() if line.startswith("{")))
    assert answer["applied"] is False and recorded in answer["note"]
    assert answer["status"] == ("issued" if case == "issued" else "settled")
    assert store.events() == before


def test_a_settlement_under_another_provider_ref_is_refused_with_1_naming_the_recorded_one(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    before = store.events()
    done = submit(store, {"command": "ConfirmRefundSettled",
                          "case_id": str(store.ids["settled"]), "provider_ref": "psp-2"},
                  monkeypatch, "payments-1")
    assert done.exit_code == 1, done.output
    said = " ".join(done.output.split())
    assert "ConfirmRefundSettled refused" in said and "settled under psp-1" in said
    assert store.events() == before


@pytest.mark.parametrize(("as_", "body", "changed"), [
    ("agent-1", {"command": "RequestRefund", "order_id": "o-1", "source": "goodwill",
                 "reason": "late parcel", "amount": "1.00"}, {"amount": "2.00"}),
    ("agent-1", {"command": "RequestRefund", "order_id": "o-1", "source": "goodwill",
                 "reason": "late parcel", "amount": "1.00"}, {"reason": "secret words"}),
    ("customer-c-1", {"command": "RequestReturn", "order_id": "o-1", "reason": "defective",
                      "lines": [{"line_id": "1", "quantity": 1}]}, {"reason": "damaged"}),
    ("customer-c-1", {"command": "FileComplaint", "order_id": "o-1", "channel": "email",
                      "category": "service", "description": "slow"},
     {"description": "secret words"}),
])
def test_an_idempotency_key_sent_with_another_request_is_a_conflict_naming_the_key(
        store: Store, monkeypatch: pytest.MonkeyPatch, as_: str, body: dict[str, Any],
        changed: dict[str, Any]) -> None:
    """The same key and body: "exists already" (1) as before; the same key with a different
    body: a conflict (4) naming the key, not the body; nothing stored by either."""
    keyed = {**body, "idempotency_key": f"key-{uuid4()}"}
    first = submit(store, keyed, monkeypatch, as_)
    assert first.exit_code == 0, first.output
    before = store.events()
    again = submit(store, keyed, monkeypatch, as_)
    assert again.exit_code == 1 and "exists already" in " ".join(again.output.split())
    other = submit(store, {**keyed, **changed}, monkeypatch, as_)
    said = " ".join(other.output.split())
    assert other.exit_code == 4, other.output
    assert f"idempotency_key {keyed['idempotency_key']}" in said and "different" in said
    assert "secret words" not in said and "exists already" not in said
    assert store.events() == before


def test_a_second_order_placed_under_another_event_id_is_refused_with_1(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AFTERSALES_DATABASE_URL", store.url)
    before = store.events()
    again = {**order_placed("o-1"), "event_id": "o-1-placed-again"}
    done = CliRunner().invoke(cli_app, ["ingest", "-", "--as", "system.upstream"],
                              input=json.dumps(again))
    assert done.exit_code == 1, done.output
    assert "placed already" in " ".join(done.output.split())
    assert store.events() == before


def test_an_order_with_an_unknown_time_zone_is_invalid_input_naming_the_field(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AFTERSALES_DATABASE_URL", store.url)
    before = store.events()
    for zone_name in ("Mars/Olympus", "../../etc/passwd", "Europe/Berlin\u0000"):
        placed = order_placed("o-tz", buyer_timezone=zone_name)
        done = CliRunner().invoke(cli_app, ["ingest", "-", "--as", "system.upstream"],
                                  input=json.dumps(placed))
        assert done.exit_code == 2, done.output
        assert "buyer_timezone" in " ".join(done.output.split())
    assert store.events() == before


@pytest.mark.parametrize(("as_", "fields", "message"), [
    ("agent-2", {}, "above the approval threshold only a supervisor approves"),
    ("agent-1", {}, "nobody approves what they requested"),
    ("customer-c-1", {}, "customer may not ApproveRefund"),
    ("sup-1", {"approver": "sup-2", "approver_role": "supervisor"}, "approver: the actor"),
])
def test_who_may_not_approve_is_denied_with_6_and_stores_nothing(
        store: Store, monkeypatch: pytest.MonkeyPatch, as_: str, fields: dict[str, Any],
        message: str) -> None:
    before = store.events()
    done = submit(store, {"command": "ApproveRefund", "case_id": str(store.ids["awaiting"]),
                          **fields}, monkeypatch, as_)
    assert done.exit_code == 6, done.output
    assert message in " ".join(done.output.split())
    assert store.events() == before
