"""Ids derived from natural keys, so that redelivered messages and retried commands never
create a second aggregate for the same thing. Each derivation is a SHA-1 and a UUID: the
recent ones are remembered (a command derives its order's, customer's and book's ids several
times)."""

from __future__ import annotations

import re
from functools import lru_cache
from uuid import UUID, uuid5

from aftersales_core.errors import InvalidFieldError
from aftersales_core.personal import ERASED

NAMESPACE = UUID("6f1b2c1e-5d0e-4c3a-9a53-1f6c0c7a2b10")
REMEMBERED = 8192

# A merchant id: what an order's merchant_id, `--merchant` and the service API's
# /v1/policy-books/merchants/{id} all take (a path segment needs no escaping).
MERCHANT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]*$"
MAX_MERCHANT_ID = 200
_MERCHANT_ID = re.compile(MERCHANT_ID_PATTERN.removeprefix("^").removesuffix("$"))
MERCHANT_ID_RULE = (f"1 to {MAX_MERCHANT_ID} letters A-Z a-z, digits and . _ : -, starting "
                    "with a letter or a digit")


def merchant_id_problem(value: str) -> str | None:
    """What is wrong with a merchant id (None: nothing)."""
    if len(value) > MAX_MERCHANT_ID or not _MERCHANT_ID.fullmatch(value):
        shown = repr(value[:40]) + ("…" if len(value) > 40 else "")
        return f"{shown} is not a merchant id ({MERCHANT_ID_RULE})"
    return None


def check_merchant_id(value: str, field: str = "merchant_id") -> str:
    """A merchant id given to the engine as new (an order placed, a book set): else
    InvalidFieldError naming ``field``. Ids stored before this rule stay readable."""
    problem = merchant_id_problem(value)
    if problem is not None:
        raise InvalidFieldError(field, problem)
    return value


# A customer id: any identifier but a word in square brackets, which the engine reserves for
# what it writes in place of data (``[erased]``, aftersales_core/personal.py, is what a purged
# row's customer column reads): a customer named so would see every erased customer's rows.
RESERVED_CUSTOMER_ID_PATTERN = r"^\[.*\]$"
_RESERVED_CUSTOMER_ID = re.compile(RESERVED_CUSTOMER_ID_PATTERN, re.DOTALL)


def customer_id_problem(value: str) -> str | None:
    """What is wrong with a customer id as the engine reserves it (None: nothing)."""
    if value == ERASED or _RESERVED_CUSTOMER_ID.match(value):
        return (f"{ERASED if value == ERASED else 'a word in square brackets'} is not a customer "
                f"id: the engine reserves it for erased data ({ERASED})")
    return None


def check_customer_id(value: str, field: str = "customer_id") -> str:
    """A customer id given to the engine as new (an order placed, a complaint filed for them,
    a principal bound to them): else InvalidFieldError naming ``field``."""
    problem = customer_id_problem(value)
    if problem is not None:
        raise InvalidFieldError(field, problem)
    return value


@lru_cache(maxsize=REMEMBERED)
def order_aggregate_id(order_id: str) -> UUID:
    return uuid5(NAMESPACE, f"order:{order_id}")


def order_subject_of(aggregate_id: UUID) -> str:
    """The data subject of an order whose buyer is not known yet: the unknown fields of an
    upstream fact that came before the order's placement are sealed under a key of their own
    (this subject), linked to the buyer when the placement names them, so the buyer's export
    lists them and erasing the buyer destroys that key too. Named by the order's aggregate id
    (the subject of its events on the wire) in square brackets, which no customer id can be
    (``customer_id_problem``), so it never names a customer."""
    return f"[order {aggregate_id}]"


def order_subject(order_id: str) -> str:
    return order_subject_of(order_aggregate_id(order_id))


@lru_cache(maxsize=REMEMBERED)
def customer_aggregate_id(customer_id: str) -> UUID:
    return uuid5(NAMESPACE, f"customer:{customer_id}")


@lru_cache(maxsize=REMEMBERED)
def case_id_for(kind: str, key: str) -> UUID:
    """The id of a case the engine opens for a natural key (an upstream event id, the case it
    resolves). Before principals' keys were scoped, commands' idempotency keys were derived
    here too: those cases keep their ids."""
    return uuid5(NAMESPACE, f"{kind}:{key}")


def requested_case_id(kind: str, principal_id: UUID | str, key: str) -> UUID:
    """The id of a case a command opens under its ``idempotency_key``: scoped to the principal
    that sends it, so that the same key from another principal opens another case (never one
    the caller cannot see), and a retry by the same principal never opens a second one."""
    return uuid5(NAMESPACE, f"{kind}:by:{principal_id}:{key}")


@lru_cache(maxsize=REMEMBERED)
def principal_aggregate_id(name: str) -> UUID:
    """The id of a principal: derived from its normalised name (domain/principal_names.py)."""
    return uuid5(NAMESPACE, f"principal:{name}")


@lru_cache(maxsize=REMEMBERED)
def quota_aggregate_id(customer_id: str, year: int) -> UUID:
    """A buyer's cross-border quota ledger of one calendar year."""
    return uuid5(NAMESPACE, f"quota:{customer_id}:{year}")


@lru_cache(maxsize=REMEMBERED)
def upstream_event_aggregate_id(event_id: str) -> UUID:
    """The claim of an upstream message's ``event_id`` (domain/upstream_ids.py): one per id in
    the whole store, whatever order the message names."""
    return uuid5(NAMESPACE, f"upstream_event_id:{event_id}")
