"""Policy books over HTTP, as `aftersales policy` serves them: the book that applies (or one
version), its history, a new version (administrators), and the customer-facing policy written
from it (every role). ``platform`` is the book of orders without a merchant; a merchant's book
is under ``merchants/{merchant_id}``. The permission matrix decides each (``PolicyBookService``
asks ``Access``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response

from aftersales_core.application.policy_books import ANY_VERSION, BookVersion, Expected
from aftersales_core.domain.ids import MAX_MERCHANT_ID, MERCHANT_ID_PATTERN, MERCHANT_ID_RULE
from aftersales_core.domain.policy_book import MAX_REASON, check_reason
from aftersales_core.errors import InvalidCommandError, InvalidFieldError
from aftersales_core.policybook.documents import MAX_BYTES, InvalidBookError, validate
from aftersales_core.policybook.model import Book
from aftersales_core.policybook.publish.render import HTML_POLICY
from api.http import (
    COMMAND_PROBLEMS,
    ETAG_HEADER,
    PROBLEMS,
    answer,
    caller,
    if_match_version,
    json_body,
    note,
)
from schemas.errors import short_name
from schemas.limits import TEXT_PATTERN
from server.auth import Authenticated
from server.problems import Problem
from server.requests import runtime

router = APIRouter(tags=["policy books"])
Who = Annotated[Authenticated, Depends(caller)]
Merchant = Annotated[str, Path(description=f"the merchant id: {MERCHANT_ID_RULE}",
                               min_length=1, max_length=MAX_MERCHANT_ID,
                               pattern=MERCHANT_ID_PATTERN)]
IfMatch = Annotated[str | None, Header(
    alias="If-Match", description='"<version>": the ETag of the book as you last read it (the '
    "version of its own latest, 0 before any), or * (any version, but one must be set); "
    "refused with 412 when another version was set since (or none for *), 400 when malformed",
    json_schema_extra={"pattern": r'^("[0-9]{1,9}"|\*)$'})]
MAX_VERSION = 1_000_000
Version = Annotated[int | None, Query(ge=0, le=MAX_VERSION,
                                      description="a stored version (default: the one that "
                                                  "applies now)")]
Lang = Annotated[Literal["en", "zh-CN"], Query(description="the language")]
TextFormat = Annotated[Literal["md", "html"], Query(alias="format",
                                                    description="Markdown or HTML")]
BOOK = {200: {"description": "the book: who set it, when, why, and its settings; the ETag is "
                         "the version of the book this URL sets (0 while a merchant has none "
                         "of its own), for If-Match on PUT", "headers": ETAG_HEADER}, **PROBLEMS}
MEDIA = {"md": "text/markdown; charset=utf-8", "html": "text/html; charset=utf-8"}
TEXT = {"schema": {"type": "string"}}
SET = {201: {"description": "stored: the new version (who, when, why); its ETag is the "
                         "version", "headers": ETAG_HEADER}, **COMMAND_PROBLEMS,
       409: {**COMMAND_PROBLEMS[409], "description": "another version kept being set at the "
             "same moment (exit code 4)"},
       412: {**COMMAND_PROBLEMS[412], "description": "If-Match: the book is at another version "
             "(another was set since you read it), or If-Match: * and no version was set yet; "
             "nothing stored"},
       422: {**COMMAND_PROBLEMS[422], "description": "refused: below the law's minimums, or "
             "the same as the latest version (exit code 1)"}}
BOOK_FIELD = {"type": "object", "description": "the book's settings (the JSON form of a book "
                                              "file)"}
SET_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "required": ["reason", "book"], "additionalProperties": False,
    "properties": {"reason": {"type": "string", "minLength": 1, "maxLength": MAX_REASON,
                              "pattern": TEXT_PATTERN,
                              "description": "why the book changes (no control characters "
                                             "but tab and line breaks)"},
                   "book": BOOK_FIELD}}}}}}
PUBLISHED = {200: {"description": "the policy as Markdown or HTML",
                   "content": {"text/markdown": TEXT, "text/html": TEXT}}, **PROBLEMS}


def body_fields(body: Any, allowed: tuple[str, ...]) -> dict[str, Any]:
    """The body's fields: one JSON object holding no others than ``allowed`` (400 naming each
    other one, as a name the caller chose is said back: cut short, invisible characters
    escaped)."""
    if not isinstance(body, dict):
        raise Problem(400, "invalid", "the body is one JSON object with "
                      + ", ".join(allowed))
    unknown = [short_name(field) for field in sorted(set(body) - set(allowed))]
    if unknown:
        raise Problem(400, "invalid", f"unknown field {', '.join(unknown)}: the body holds "
                      f"only {', '.join(allowed)}",
                      fields=tuple((f, "not a field of this body") for f in unknown))
    return body


def checked_book(document: Any) -> Book:
    """A book sent in a body, checked as a book file is (400 naming what is wrong): an object,
    at most ``MAX_BYTES`` once encoded, every setting valid. The law's minimums are checked
    where they apply (storing a version, simulating it)."""
    if not isinstance(document, dict):
        raise InvalidCommandError("book: an object of the book's settings")
    size = len(orjson.dumps(document))
    if size > MAX_BYTES:
        raise InvalidBookError(f"book: {size} bytes as JSON, over the {MAX_BYTES} a book may "
                               "have", (("book", f"over the {MAX_BYTES} bytes a book may have"),))
    try:
        return validate(document)
    except InvalidBookError as error:  # each bad setting by its place in the body
        raise error.within("book") from None


def etag(found: BookVersion, merchant: str | None) -> dict[str, str]:
    """The ETag of a book's answer: the version of the book its URL sets (what If-Match on a
    PUT to it compares with). A merchant without a book of its own is answered with the
    platform's book, but its own is at version 0."""
    own = found.version if found.book_id.merchant_id == merchant else 0
    return {"ETag": f'"{own}"'}


def _show(request: Request, who: Authenticated, merchant: str | None,
          version: int | None) -> Response:
    note(request, merchant=merchant or "platform")
    found = runtime(request).services.books.show(who.caller, merchant, version)
    return answer(found.to_json(), headers=etag(found, merchant))


def _history(request: Request, who: Authenticated, merchant: str | None) -> Response:
    note(request, merchant=merchant or "platform")
    return answer({"merchant_id": merchant,
                   "versions": runtime(request).services.books.history(who.caller, merchant)})


def _published(request: Request, who: Authenticated, merchant: str | None, lang: str,
               fmt: Literal["md", "html"]) -> Response:
    text = runtime(request).services.books.publish(who.caller, merchant, lang, fmt)
    return Response(text, media_type=MEDIA[fmt],
                    headers={"Content-Security-Policy": HTML_POLICY} if fmt == "html" else None)


async def _set(request: Request, who: Authenticated, merchant: str | None,
               if_match: str | None) -> Response:
    # If-Match: * is true only when the book this URL sets has a version (RFC 9110 §13.1.1)
    expected: Expected = ANY_VERSION if if_match is not None and if_match.strip() == "*" \
        else if_match_version(if_match)
    body = body_fields(await json_body(request), ("reason", "book"))
    reason: Any = body.get("reason")
    document: Any = body.get("book")
    if not isinstance(reason, str):
        raise InvalidFieldError("reason", f"a string: why the book changes (1 to {MAX_REASON} "
                                "characters)")
    check_reason(reason)  # the words `policy set --reason` gets
    checked_book(document)  # the structure first (400 naming the setting); the law in set
    note(request, merchant=merchant or "platform")
    services = runtime(request).services
    stored = await run_in_threadpool(services.books.set, who.caller, merchant, document, reason,
                                     expected)
    return answer(stored.meta(), 201, {"ETag": f'"{stored.version}"'})


@router.get("/v1/policy-books/platform", responses=BOOK)
def get_platform_book(request: Request, who: Who, version: Version = None) -> Response:
    """The platform's book (orders without a merchant): administrators and auditors."""
    return _show(request, who, None, version)


@router.get("/v1/policy-books/merchants/{merchant_id}", responses=BOOK)
def get_merchant_book(request: Request, who: Who, merchant_id: Merchant,
                      version: Version = None) -> Response:
    """The book that applies to the merchant's orders (its own, else the platform's), or one
    stored version of its own: administrators and auditors."""
    return _show(request, who, merchant_id, version)


@router.get("/v1/policy-books/platform/history", responses=PROBLEMS)
def get_platform_history(request: Request, who: Who) -> Response:
    """Every version of the platform's book: who set it, when and why."""
    return _history(request, who, None)


@router.get("/v1/policy-books/merchants/{merchant_id}/history", responses=PROBLEMS)
def get_merchant_history(request: Request, who: Who, merchant_id: Merchant) -> Response:
    """Every version of the merchant's book: who set it, when and why."""
    return _history(request, who, merchant_id)


@router.put("/v1/policy-books/platform", status_code=201, responses=SET,
            openapi_extra=SET_BODY)
async def put_platform_book(request: Request, who: Who, if_match: IfMatch = None) -> Response:
    """Store the platform book's next version (administrators): ``{"reason", "book"}``; a book
    below the law's minimums or unchanged is refused and nothing is stored. With
    ``If-Match: "N"`` only while the book is at version N (else 412)."""
    return await _set(request, who, None, if_match)


@router.put("/v1/policy-books/merchants/{merchant_id}", status_code=201, responses=SET,
            openapi_extra=SET_BODY)
async def put_merchant_book(request: Request, who: Who, merchant_id: Merchant,
                            if_match: IfMatch = None) -> Response:
    """Store the merchant book's next version (administrators): ``{"reason", "book"}``. With
    ``If-Match: "N"`` only while the merchant's own book is at version N (0: none set yet;
    else 412)."""
    return await _set(request, who, merchant_id, if_match)


@router.get("/v1/policy-books/platform/published", responses=PUBLISHED,
            response_class=Response)
def get_platform_policy(request: Request, who: Who, lang: Lang = "en",
                        fmt: TextFormat = "md") -> Response:
    """The customer-facing after-sales policy written from the platform's book (every role)."""
    return _published(request, who, None, lang, fmt)


@router.get("/v1/policy-books/merchants/{merchant_id}/published", responses=PUBLISHED,
            response_class=Response)
def get_merchant_policy(request: Request, who: Who, merchant_id: Merchant,
                        lang: Lang = "en", fmt: TextFormat = "md") -> Response:
    """The customer-facing after-sales policy written from the book that applies to the
    merchant's orders: what is published is what is enforced (every role)."""
    return _published(request, who, merchant_id, lang, fmt)

