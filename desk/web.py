"""What every desk page shares: the signed-in viewer (a FastAPI dependency), forms read
within limits, CSRF checks, HTML rendered with auto-escaping, the security headers every
answer carries, and failures turned into pages (never a traceback)."""

from __future__ import annotations

import functools
import hashlib
import logging
import secrets
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, quote
from uuid import UUID

from fastapi import Request
from fastapi.routing import APIRoute
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from starlette.responses import HTMLResponse, RedirectResponse, Response

from aftersales.errors import classify
from aftersales_core.application.access import Caller
from aftersales_core.domain.principals import Principal
from aftersales_core.errors import NotAuthorisedError, UnknownCaseError, UnknownOrderError
from aftersales_core.text import DISGUISING, shown_visibly
from desk.assignments import Assignments
from desk.i18n import LANGUAGES, Reader, negotiate
from desk.sessions import DeskSession, DeskSessions
from desk.settings import DeskSettings
from server.auth import Unauthenticated
from server.requests import runtime

log = logging.getLogger("aftersales.desk")
COOKIE = "desk_session"
SIGNIN_COOKIE = "desk_signin"
PATH = "/desk"
VIA = "desk"
MAX_FIELDS = 200
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


class SignInNeeded(Exception):
    """No live session: the browser goes to the sign-in page."""


class CsrfFailed(Exception):
    """A form without this session's CSRF token, or sent from another site."""


class BadForm(Exception):
    """A form body that is not a form (wrong media type, not UTF-8, too many fields)."""


@dataclass(frozen=True)
class DeskState:
    settings: DeskSettings
    sessions: DeskSessions
    assignments: Assignments
    templates: Environment


_lock = threading.Lock()


def state(request: Request) -> DeskState:
    """The desk's tables and templates, made on first use (beside the API's runtime)."""
    app_state = request.app.state
    found: DeskState | None = getattr(app_state, "desk", None)
    if found is None:
        with _lock:
            found = getattr(app_state, "desk", None)
            if found is None:
                recorder = runtime(request).services.store.recorder
                settings: DeskSettings = app_state.desk_settings  # desk/mount.py
                found = DeskState(settings, DeskSessions(recorder),
                                  Assignments(recorder), templates())
                app_state.desk = found
    return found


def _visibly(value: Any) -> Any:
    """Every value a page shows: text with what could reorder it or drive the page as escapes
    (a note holding a right-to-left override would otherwise read backwards, and so might what
    follows it; aftersales_core/text.py), markup as it is. ``|e`` makes Markup, so a template
    writes ``{{ value|e }}`` where text must come back unchanged (a form shown again)."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return shown_visibly(value, DISGUISING)
    return value


# the desk's static files and their media types
STATIC = {"desk.css": "text/css; charset=utf-8", "desk.js": "text/javascript; charset=utf-8",
          "favicon.svg": "image/svg+xml"}


@functools.cache
def static_body(name: str) -> bytes:
    return resources.files("desk").joinpath("static", name).read_bytes()


def static_version(name: str) -> str:
    """What a static file's address carries (``?v=``): a digest of its bytes, so a browser
    holding an older desk.js fetches the new one at once after an upgrade."""
    return hashlib.sha256(static_body(name)).hexdigest()[:16]


def static_url(name: str) -> str:
    return f"{PATH}/static/{name}?v={static_version(name)}"


def templates() -> Environment:
    env = Environment(loader=PackageLoader("desk", "templates"),
                      autoescape=select_autoescape(["html"], default=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                      finalize=_visibly)
    env.globals["languages"] = {code: name for code, (_, name, _) in LANGUAGES.items()}
    env.globals["static_url"] = static_url
    return env


@dataclass(frozen=True)
class Viewer:
    """Who is signed in: their session, the caller the application sees, their principal and
    roles (narrowed by the credential), and how they read words and times."""

    session: DeskSession
    caller: Caller
    principal: Principal
    roles: tuple[str, ...]
    reader: Reader
    now: datetime

    @property
    def name(self) -> str:
        return self.principal.name


def viewer(request: Request) -> Viewer:
    """The signed-in viewer, checked on every request: a live session, its API key neither
    revoked nor expired nor refused as the API refuses it (an administrator's key another
    principal issued: the holder may have become one since signing in), the principal
    enabled, and the matrix still letting it open the desk."""
    rt, desk = runtime(request), state(request)
    now = datetime.now(UTC)
    background = request.method == "GET" and bool(request.headers.get("x-desk-fetch"))
    session = desk.sessions.find(request.cookies.get(COOKIE), now,
                                 timedelta(minutes=desk.settings.idle_minutes),
                                 touch=not background)  # the queue's refresh is no activity
    if session is None:
        raise SignInNeeded()
    key = None
    if session.key_id is not None:
        key = rt.keys.get(session.key_id)
        if key is None or key.state(now) != "active":
            if key is not None:  # revoked or expired since signing in: denied, as by the API
                rt.auth.key_refused(key, now, f"key {key.key_id} is {key.state(now)}", VIA)
            desk.sessions.end(session, now)
            raise SignInNeeded()
    caller = Caller(UUID(session.principal_id), now, VIA, roles=session.roles)
    try:
        principal = rt.services.access.principal(caller, "OpenDesk")
        if key is not None:
            rt.auth.check_holder(key, principal, now, VIA)
        rt.services.reads.require(caller, "OpenDesk")
    except NotAuthorisedError:
        desk.sessions.end(session, now)
        raise
    except Unauthenticated:  # the key is refused now: signed out, as for a revoked one
        desk.sessions.end(session, now)
        raise SignInNeeded() from None
    if rt.principal_rate.wait_needed(caller.principal_id):
        raise TooFast()
    roles = tuple(r for r in principal.roles if session.roles is None or r in session.roles)
    request.state.log = {**getattr(request.state, "log", {}), "principal": session.principal_id}
    found = Viewer(session, caller, principal, roles,
                   Reader(session.locale, session.timezone), now)
    request.state.reader, request.state.viewer = found.reader, found
    return found


class TooFast(Exception):
    """Over the principal's request rate."""


def case_uuid(text: str) -> UUID:
    """A case address's id: a case that is no UUID (a mistyped or truncated id) is a case that
    does not exist (404, the desk's "not found" page), not a failure of the desk."""
    try:
        return UUID(text)
    except ValueError:
        raise UnknownCaseError(f"no case {text[:60]}") from None


def nav_of(who: Viewer) -> set[str]:
    """The desk's sections and abilities this viewer's roles have (links and buttons; the
    application decides again on every request)."""
    from aftersales_core.policies.access import roles_for

    return {op for op in ("AssignCase", "ApproveRefund", "ReadReport")
            if set(who.roles) & set(roles_for(op))}


def guest_reader(request: Request) -> Reader:
    chosen = request.query_params.get("lang")
    language = chosen if chosen in LANGUAGES else negotiate(request.headers.get("accept-language"))
    return Reader(language, "UTC")


def principal_names(request: Request, ids: set[str]) -> dict[str, str]:
    """Principal ids (events' ``by``) as names, for people to read; "policy" and anything that
    is no principal stay as they are."""
    store = runtime(request).services.store
    names: dict[str, str] = {}
    for value in ids:
        try:
            found = store.load_any(UUID(value))
        except (ValueError, TypeError):
            continue
        if isinstance(found, Principal):
            names[value] = found.name
    return names


def render(request: Request, template: str, reader: Reader, status: int = 200,
           headers: dict[str, str] | None = None, **context: Any) -> HTMLResponse:
    who = context.get("who")
    if isinstance(who, Viewer):
        context.setdefault("nav", nav_of(who))
    context.setdefault("prefs_notice", prefs_notice(request, reader))
    page = state(request).templates.get_template(template).render(
        r=reader, request_path=request.url.path,
        request_target=request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        **context)
    return HTMLResponse(page, status_code=status, headers={**SECURITY_HEADERS,
                                                           **(headers or {}),
                                                           "Cache-Control": "no-store"})


def prefs_notice(request: Request, reader: Reader) -> tuple[str, str] | None:
    """What the preferences form said about its save (its redirect's query: ``prefs=saved``,
    or ``prefs=bad_zone`` with the zone typed), as (ARIA role, words), or None."""
    said = request.query_params.get("prefs")
    if said == "saved":
        return "status", reader.t("prefs.saved")
    if said == "bad_zone":
        typed = shown_visibly(request.query_params.get("zone", "")[:64])
        return "alert", reader.t("prefs.bad_zone", zone=f"“{typed}”", current=reader.zone_name)
    return None


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303, headers={**SECURITY_HEADERS,
                                                           "Cache-Control": "no-store"})


def secure(request: Request) -> bool:
    return request.url.scheme == "https" or state(request).settings.secure_cookie == "always"


def set_cookie(request: Request, response: Response, name: str, value: str,
               max_age: int) -> None:
    response.set_cookie(name, value, max_age=max_age, path=PATH, httponly=True,
                        samesite="strict", secure=secure(request))


def clear_cookie(request: Request, response: Response, name: str) -> None:
    response.delete_cookie(name, path=PATH, httponly=True, samesite="strict",
                           secure=secure(request))


async def read_form(request: Request) -> dict[str, str]:
    """A posted form (application/x-www-form-urlencoded, UTF-8): each field once."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/x-www-form-urlencoded":
        raise BadForm("send the form as application/x-www-form-urlencoded")
    try:
        text = (await request.body()).decode("utf-8")
        fields = parse_qs(text, keep_blank_values=True, max_num_fields=MAX_FIELDS,
                          errors="strict")
    except (UnicodeDecodeError, ValueError) as error:
        raise BadForm(f"not a form: {type(error).__name__}") from None
    if any(len(values) > 1 for values in fields.values()):
        raise BadForm("a field was sent twice")
    return {k: v[0] for k, v in fields.items()}


def same_origin(request: Request) -> bool:
    """Whether the browser says the request came from the desk's own pages (a request that
    names another origin or site is refused; one that names none is judged by its token)."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    return origin == f"{request.url.scheme}://{request.url.netloc}"


def check_csrf(request: Request, who: Viewer, form: dict[str, str]) -> None:
    if not same_origin(request) or not who.session.csrf_matches(form.get("csrf")):
        raise CsrfFailed()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def sign_in_url(request: Request) -> str:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return f"{PATH}/sign-in?next={quote(target, safe='')}"


class DeskRoute(APIRoute):
    """A desk route: failures become pages in the viewer's language (or a redirect to sign in)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInNeeded:
                if request.headers.get("x-desk-fetch"):
                    return Response(status_code=401, headers=SECURITY_HEADERS)
                return see_other(sign_in_url(request))
            except Exception as error:  # answered as a page; a bug is logged with its trace
                return failure_page(request, error)

        return handle


def failure_page(request: Request, error: Exception) -> Response:
    reader = getattr(request.state, "reader", None) or guest_reader(request)
    if isinstance(error, CsrfFailed):
        status, title, detail = 403, "error.forbidden", reader.t("error.csrf")
    elif isinstance(error, BadForm):
        status, title, detail = 400, "error.title", str(error)
    elif isinstance(error, TooFast):
        status, title, detail = 429, "error.title", reader.t("signin.slow_down")
    elif isinstance(error, NotAuthorisedError):
        status, title, detail = 403, "error.forbidden", reader.t("actions.denied",
                                                                   reason=str(error))
    elif isinstance(error, (UnknownCaseError, UnknownOrderError)):
        status, title, detail = 404, "error.not_found", str(error)
    else:
        code, message = classify(error)
        if code == 5:
            status, title, detail = 503, "error.title", reader.t("error.unavailable")
        elif code in (1, 2, 3, 4):
            status, title, detail = {1: 422, 2: 400, 3: 404, 4: 409}[code], "error.title", message
        else:
            log.exception("desk: internal error on %s", request.url.path)
            status, title, detail = 500, "error.title", "internal error"
    return render(request, "error.html", reader, status=status, title=reader.t(title),
                  detail=detail, who=getattr(request.state, "viewer", None))
