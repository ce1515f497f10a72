"""RFC 9457 problem documents (``application/problem+json``) for every failure, and the one
table between HTTP status codes and the CLI's exit codes (README "Service API").

A problem names what is wrong (every bad field, for invalid input) in the words the CLI
uses, and never repeats a credential, a value the caller sent as free text, a stack trace or a
database's own message: outages and internal errors say only what failed and give the
request id the server log has the details under."""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import quote

from aftersales import exit_codes
from aftersales.errors import classify
from aftersales_core.errors import DomainError, InvalidFieldError, PreconditionFailedError
from aftersales_core.policybook.documents import InvalidBookError
from aftersales_core.policybook.rulebook import CorruptBookError
from schemas.errors import InputRefused

log = logging.getLogger("aftersales.api")
MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:aftersales:problem:"
INSTANCE_LIMIT = 200  # characters of the decoded path a problem's ``instance`` keeps
_PATH_SAFE = "/!$&'()*+,;=:@-._~"  # RFC 3986 pchar and "/", left as they are

# Each exit code of the CLI and the one status the API answers for it.
STATUS_OF_EXIT = {
    exit_codes.OK: 200,
    exit_codes.REFUSED: 422,
    exit_codes.INVALID: 400,
    exit_codes.NOT_FOUND: 404,
    exit_codes.CONFLICT: 409,
    exit_codes.UNAVAILABLE: 503,
    exit_codes.DENIED: 403,
    exit_codes.INTERNAL: 500,
}
EXIT_OF_STATUS = {status: code for code, status in STATUS_OF_EXIT.items()}
TITLES = {
    400: "Invalid request",
    401: "Unauthenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    408: "Request timeout",
    409: "Conflict",
    412: "Precondition failed",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Refused",
    428: "Precondition required",
    429: "Too many requests",
    500: "Internal error",
    503: "Unavailable",
}


def uri_reference(path: str) -> str:
    """The request's (decoded) path as the URI reference RFC 9457 wants for ``instance``:
    every character that may not stand in a path percent-encoded (control and bidi characters
    included, so the problem cannot drive a terminal or disguise itself), the path cut to
    ``INSTANCE_LIMIT`` characters first, so a long path is not said back whole."""
    return quote(path[:INSTANCE_LIMIT], safe=_PATH_SAFE)


class Problem(Exception):
    """A failure with its HTTP status, a stable ``code`` (the type's last part) and a detail
    for people; ``fields`` lists (field, what is wrong) for invalid input."""

    def __init__(self, status: int, code: str, detail: str, *,
                 fields: tuple[tuple[str, str], ...] = (),
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail
        self.fields, self.headers = fields, dict(headers or {})

    def to_json(self, instance: str, request_id: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": TYPE_PREFIX + self.code,
            "title": TITLES.get(self.status, "Error"),
            "status": self.status,
            "detail": self.detail,
            "instance": uri_reference(instance),
        }
        if self.fields:
            body["errors"] = [{"field": f, "detail": d} for f, d in self.fields]
        if self.status in EXIT_OF_STATUS:
            body["exit_code"] = EXIT_OF_STATUS[self.status]
        if request_id:
            body["request_id"] = request_id
        return body


def problem_for(error: BaseException, request_id: str = "") -> Problem:
    """The problem document for any failure of a request."""
    if isinstance(error, Problem):
        return error
    if isinstance(error, InputRefused):
        status = 413 if error.kind == "oversized" else 400
        # a refusal of the whole body (not JSON, a duplicate key, too deep) names the document
        return Problem(status, error.kind, str(error),
                       fields=error.fields or (("(document)", str(error)),))
    if isinstance(error, PreconditionFailedError):
        return Problem(412, error.code, str(error))
    if isinstance(error, CorruptBookError):  # the store was changed behind the engine's back
        log.error("request %s: %s", request_id, error)  # the operators' alarm, with the hashes
        return Problem(503, "policy_unavailable", f"the policy of {error.book_id} cannot be "
                       "applied right now; the operators have been alerted (request id "
                       f"{request_id}): try again later", headers={"Retry-After": "60"})
    if type(error).__name__ == "KeysUnavailable":  # server.oidc: the identity provider's keys
        log.warning("request %s: %s", request_id, error)
        return Problem(503, "unavailable", "tokens cannot be checked right now (the identity "
                       "provider's keys are unavailable); try again shortly",
                       headers={"Retry-After": "5"})
    code, message = classify(error)
    status = STATUS_OF_EXIT.get(code, 500)
    if code == exit_codes.UNAVAILABLE:
        what = message.split(":", 1)[0]  # "the event store is unavailable" (never the cause)
        log.warning("request %s: %s", request_id, message)
        return Problem(503, "unavailable", f"{what}; try again shortly",
                       headers={"Retry-After": "5"})
    if code == exit_codes.INTERNAL:
        log.error("request %s: internal error", request_id, exc_info=error)
        return Problem(500, "internal_error", "internal error: the server log has the details "
                       f"under request id {request_id}")
    if isinstance(error, (InvalidFieldError, InvalidBookError)):
        return Problem(status, error.code, message, fields=error.fields)
    fields = _named_field(message) if status == 400 else ()
    if isinstance(error, DomainError):
        return Problem(status, error.code, message, fields=fields)
    return Problem(status, "invalid" if status == 400 else "error", message, fields=fields)


# a field's path: ``amount``, ``lines.0.quantity`` (not a policy's id such as return.shipping)
_FIELD = re.compile(r"([a-z_][a-z0-9_]*(?:\.[0-9]+(?:\.[a-z_][a-z0-9_]*)?)*): (.+)", re.DOTALL)


def _named_field(message: str) -> tuple[tuple[str, str], ...]:
    """The bad field of a domain error on input, which names it first (``amount: 1.001 has
    more decimals than EUR allows (2)``), as the problem's ``errors``."""
    found = _FIELD.fullmatch(message)
    return ((found.group(1), found.group(2)),) if found else ()
