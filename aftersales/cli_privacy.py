"""`aftersales customer …` (a data subject's rights) and `aftersales keys …` (the key hierarchy).

* `customer erase ID --reason TEXT --as ADMIN`: the customer's data key is destroyed and the
  erasure recorded; their personal data reads `[erased]` everywhere from then on.
* `customer export ID --as NAME`: every case, order and principal of the customer and every
  personal datum in them, as one JSON document (an administrator, or the customer themselves).
* `customer erasures --as NAME`: every recorded erasure (auditors and administrators).
* `keys new-kek FILE`: a new key-encryption key in a file readable by its owner only.
* `keys rotate`: every data key re-wrapped under the configured primary key-encryption key
  (the previous one configured as AFTERSALES_KEK_PREVIOUS_FILE). No principal: the operator
  holding both keys is the authority.
* `keys status`: which key-encryption keys wrap how many data keys.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar

import orjson
import typer

from aftersales import exit_codes
from aftersales.errors import exit_for
from aftersales.identity import AsPrincipal, caller_for
from aftersales.output import Format as RowsFormat
from aftersales.output import (
    console,
    emit_json_line,
    emit_rows,
    errors,
    fail,
    output_option,
    table,
    write_output,
)

if TYPE_CHECKING:
    from aftersales_core.application.services import Services
    from privacy.kek import KeyEncryptionKey
    from privacy.keys import Keyring

customer_app = typer.Typer(help="A customer's personal data: erase it, export it.",
                           no_args_is_help=True)
keys_app = typer.Typer(help="The keys that protect personal data: new key-encryption key, "
                            "rotation, status.", no_args_is_help=True)
T = TypeVar("T")
CustomerId = Annotated[str, typer.Argument(help="the customer id (as the orders name it)")]
ShowFormat = Annotated[Literal["table", "json"], typer.Option("--format")]


def _checked(kind: Literal["ident", "text"], value: str, what: str) -> str:
    """The value as the wire models check an id (``ident``) or a free text (``text``)."""
    from pydantic import TypeAdapter, ValidationError

    from schemas.common import Ident, Text
    from schemas.errors import describe_validation

    try:
        return TypeAdapter(Ident if kind == "ident" else Text).validate_python(value)
    except ValidationError as error:
        raise typer.BadParameter(f"{what}: {describe_validation(error)}") from None


def _run(work: Callable[[Services], T], *, reading: bool = False) -> T:
    """``work`` over the store; ``reading``: it only reads, so a SQLite store file that does
    not exist is exit 5 and none is created."""
    from aftersales.bootstrap import build_app

    app = build_app(reading=reading)
    try:
        return work(app)
    except Exception as problem:  # every failure has its exit code and one line
        raise exit_for(problem) from None
    finally:
        app.close()


@customer_app.command("erase")
def erase(
    customer_id: CustomerId,
    reason: Annotated[str, typer.Option(
        "--reason", help="why (e.g. the request's reference); stored in clear with the "
                         "erasure, so never personal data itself")],
    as_principal: AsPrincipal = None,
    fmt: ShowFormat = "table",
) -> None:
    r"""Erase a customer's personal data: their data key is destroyed and the erasure recorded
    (who, when, why). Every event stays as it was; its personal data reads `\[erased]` from now
    on, in every process. An administrator does it, never for their own customer id."""
    customer_id = _checked("ident", customer_id, "customer id")
    reason = _checked("text", reason, "--reason")

    def work(app: Services) -> dict[str, object]:
        caller = caller_for(app, as_principal, "EraseCustomer")
        return app.privacy.erase(caller, customer_id, reason, datetime.now(UTC)).to_json()

    done = _run(work)
    if fmt == "json":
        emit_json_line(done)
        return
    console.print(table(f"personal data of customer {customer_id} erased", ("field", "value"),
                        ((k, v) for k, v in done.items() if k != "decision")))


@customer_app.command("export")
def export(
    customer_id: CustomerId,
    output: Annotated[Path | None, typer.Option(
        help="write the JSON here (created readable by its owner only; its folder must "
             "exist) instead of stdout", callback=output_option)] = None,
    as_principal: AsPrincipal = None,
) -> None:
    """Every personal datum and every case, order, quota ledger and principal of a customer,
    as one JSON document (GDPR art. 15 and 20, PIPL art. 45). An administrator, or the
    customer themselves."""
    customer_id = _checked("ident", customer_id, "customer id")

    def work(app: Services) -> dict[str, Any]:
        caller = caller_for(app, as_principal, "ExportCustomer")
        return app.privacy.export(caller, customer_id, datetime.now(UTC))

    document = _run(work, reading=True)
    if output is None:
        emit_json_line(document)
        return
    write_output(output, orjson.dumps(document, option=orjson.OPT_INDENT_2), private=True)
    errors.print(f"export written to {output} ({len(document['personal_data'])} personal "
                 "data)", highlight=False)


@customer_app.command("erasures")
def erasures(
    as_principal: AsPrincipal = None,
    fmt: Annotated[RowsFormat, typer.Option("--format")] = "table",
) -> None:
    """Every erasure of personal data the store recorded, oldest first: the customer id (kept:
    only the personal data is erased), when, by which principal in which role, why, and its
    position in the store. Auditors and administrators; changes nothing."""
    from aftersales_core.application.erasures import COLUMNS

    def work(app: Services) -> list[dict[str, Any]]:
        return app.privacy.erasures(caller_for(app, as_principal, "ListErasures"))

    rows = _run(work, reading=True)
    emit_rows(rows, fmt, f"erasures ({len(rows)})", COLUMNS)


@keys_app.command("new-kek")
def new_kek(
    path: Annotated[Path, typer.Argument(
        help="the key file to create (never overwritten; its folder must exist)",
        callback=output_option)],
) -> None:
    """Write a new random key-encryption key to PATH (mode 0600) and print its id. Keep it
    apart from the store and its backups (a secret manager); point AFTERSALES_KEK_FILE at it."""
    from privacy.kek import write_key_file

    try:
        kek: KeyEncryptionKey = write_key_file(path)
    except FileExistsError:
        fail(f"{path} exists already: a key file is never overwritten")
        raise typer.Exit(exit_codes.INVALID) from None
    except OSError as error:
        fail(f"cannot write {path}: {error.strerror or error}")
        raise typer.Exit(exit_codes.INVALID) from None
    console.print(f"key-encryption key {kek.kek_id} written to {path}", highlight=False)


def _keyring(app: Services) -> Keyring:
    from privacy.keys import Keyring

    keys = app.privacy.keys
    if not isinstance(keys, Keyring):
        raise TypeError("the store has no key table")
    return keys


@keys_app.command("rotate")
def rotate(fmt: ShowFormat = "table") -> None:
    """Re-wrap every data key under the primary key-encryption key (AFTERSALES_KEK_FILE), in
    one transaction, unwrapping with the previous ones (AFTERSALES_KEK_PREVIOUS_FILE). Then
    take the previous key out of the configuration and destroy it."""

    def work(app: Services) -> dict[str, object]:
        keyring = _keyring(app)
        changed, already = keyring.rotate()
        return {"kek_id": keyring.keks.primary.kek_id, "rewrapped": changed,
                "already_under_it": already}

    done = _run(work)
    if fmt == "json":
        emit_json_line(done)
        return
    console.print(table("data keys re-wrapped", ("field", "value"), done.items()))


@keys_app.command("status")
def status(fmt: ShowFormat = "table") -> None:
    """The configured key-encryption keys and how many data keys each wraps, and how many
    customers were erased."""

    def work(app: Services) -> dict[str, object]:
        keyring = _keyring(app)
        return {"primary": keyring.keks.primary.kek_id,
                "previous": [k.kek_id for k in keyring.keks.previous],
                "data_keys_by_kek": keyring.table.by_kek(), **keyring.table.counts()}

    done = _run(work, reading=True)
    if fmt == "json":
        emit_json_line(done)
        return
    console.print(table("keys", ("field", "value"), done.items()))
