"""Signing in and out, preferences (language, time zone) and the desk's static files.

Sign-in takes a principal's API key (or, when OIDC is configured, a token from the identity
provider), checks it exactly as the API does (``Authenticator``: hashed keys, revocation,
expiry, the failed-attempt rate limit), then asks the matrix whether the principal may open
the desk (``OpenDesk``: customers may not; the denial is logged). The sign-in form carries a
CSRF token too (double-submitted: a cookie and the form must agree)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated
from urllib.parse import parse_qsl, urlencode

import jwt
from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response

from aftersales_core.application.access import Caller
from aftersales_core.errors import NotAuthorisedError
from desk.i18n import LANGUAGES, Reader, negotiate, zone_of
from desk.web import (
    COOKIE,
    PATH,
    SECURITY_HEADERS,
    SIGNIN_COOKIE,
    STATIC,
    VIA,
    CsrfFailed,
    DeskRoute,
    Viewer,
    check_csrf,
    clear_cookie,
    guest_reader,
    new_token,
    read_form,
    render,
    same_origin,
    see_other,
    set_cookie,
    state,
    static_body,
    static_version,
    viewer,
)
from server.auth import Unauthenticated
from server.requests import runtime

router = APIRouter(route_class=DeskRoute, include_in_schema=False)
Who = Annotated[Viewer, Depends(viewer)]


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a desk page of this site, nothing else."""
    if not target or not target.startswith(f"{PATH}/") or target.startswith("//") or \
            "\\" in target or any(ord(c) < 32 for c in target) or len(target) > 2000:
        return f"{PATH}/queue"
    return target


def _form(request: Request, reader: Reader, status: int = 200, error: str | None = None,
          notice: str | None = None) -> Response:
    token = new_token()
    rt = runtime(request)
    response = render(request, "sign_in.html", reader, status=status, csrf=token, error=error,
                      notice=notice, oidc=rt.api.oidc_enabled,
                      next=safe_next(request.query_params.get("next")))
    set_cookie(request, response, SIGNIN_COOKIE, token, 3600)
    return response


@router.get(PATH)
@router.get(f"{PATH}/")
def home() -> Response:
    return see_other(f"{PATH}/queue")


@router.get(f"{PATH}/sign-in")
def sign_in_page(request: Request) -> Response:
    reader = guest_reader(request)
    notice = {"out": reader.t("signin.signed_out"), "ended": reader.t("signin.expired")}.get(
        request.query_params.get("state", ""))
    return _form(request, reader, notice=notice)


@router.post(f"{PATH}/sign-in")
async def sign_in(request: Request) -> Response:
    form = await read_form(request)
    language = form.get("lang") if form.get("lang") in LANGUAGES else \
        negotiate(request.headers.get("accept-language"))
    zone = form.get("timezone", "")
    reader = Reader(language or "en", zone if zone_of(zone) else "UTC")
    request.state.reader = reader
    cookie = request.cookies.get(SIGNIN_COOKIE, "")
    if not same_origin(request) or not cookie or form.get("csrf") != cookie:
        raise CsrfFailed()
    rt, desk = runtime(request), state(request)
    client = request.client.host if request.client else "unknown"
    if rt.failure_rate.peek(client):
        return _form(request, reader, 429, reader.t("signin.slow_down"))
    now = datetime.now(UTC)
    credential = form.get("credential", "").strip()
    try:
        who = await run_in_threadpool(rt.auth.authenticate, f"Bearer {credential}", now)
    except Unauthenticated as failed:
        rt.failure_rate.wait_needed(client)
        return _form(request, reader, 401, reader.t("signin.failed", reason=str(failed)))
    caller = Caller(who.caller.principal_id, now, VIA, roles=who.caller.roles)
    try:
        await run_in_threadpool(rt.services.reads.require, caller, "OpenDesk")
    except NotAuthorisedError as denied:
        return _form(request, reader, 403, reader.t("signin.not_desk", name=who.principal,
                                                    reason=str(denied)))
    expires = now + timedelta(hours=desk.settings.session_hours)
    key_id = None
    if who.credential == "api_key":
        key_id = credential.removeprefix("ask_").partition("_")[0]
    else:
        claims = jwt.decode(credential, options={"verify_signature": False})
        if isinstance(claims.get("exp"), (int, float)):
            expires = min(expires, datetime.fromtimestamp(claims["exp"], UTC))
    token, _ = await run_in_threadpool(lambda: desk.sessions.start(
        principal_id=str(caller.principal_id), principal=who.principal,
        credential=who.credential, key_id=key_id, roles=caller.roles, locale=reader.language,
        timezone=reader.zone_name, now=now, expires_at=expires))
    response = see_other(safe_next(form.get("next")))
    set_cookie(request, response, COOKIE, token,
               max(60, int((expires - now).total_seconds())))
    clear_cookie(request, response, SIGNIN_COOKIE)
    return response


@router.post(f"{PATH}/sign-out")
async def sign_out(request: Request) -> Response:
    form = await read_form(request)
    who = await run_in_threadpool(viewer, request)
    check_csrf(request, who, form)
    await run_in_threadpool(state(request).sessions.end, who.session, datetime.now(UTC))
    response = see_other(f"{PATH}/sign-in?state=out")
    clear_cookie(request, response, COOKIE)
    return response


@router.post(f"{PATH}/preferences")
async def preferences(request: Request) -> Response:
    form = await read_form(request)
    who = await run_in_threadpool(viewer, request)
    check_csrf(request, who, form)
    language = form.get("lang") if form.get("lang") in LANGUAGES else who.reader.language
    typed = form.get("timezone", "").strip()
    zone = typed if zone_of(typed) else who.reader.zone_name
    await run_in_threadpool(state(request).sessions.prefer, who.session, language or "en", zone)
    said = {"prefs": "saved"} if zone == typed else {"prefs": "bad_zone", "zone": typed[:64]}
    return see_other(with_notice(safe_next(form.get("back")), said))


def with_notice(target: str, notice: dict[str, str]) -> str:
    """``target`` (a desk page) with what the preferences form says about the save in its
    query (an earlier notice replaced), shown by the page it leads back to (prefs_notice)."""
    path, _, query = target.partition("?")
    kept = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True)
            if k not in ("prefs", "zone")]
    return f"{path}?{urlencode(kept + list(notice.items()))}"


@router.get(f"{PATH}/static/{{name}}")
def static(name: str, v: str = "") -> Response:
    """A static file: kept a year under its versioned address (static_url: its digest
    changes with its bytes), checked again each time under any other."""
    if name not in STATIC:
        return Response(status_code=404, headers=SECURITY_HEADERS)
    cache = ("public, max-age=31536000, immutable" if v == static_version(name)
             else "no-cache")
    return Response(static_body(name), media_type=STATIC[name],
                    headers={**SECURITY_HEADERS, "Cache-Control": cache})
