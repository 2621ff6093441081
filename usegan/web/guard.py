"""HTTP layer of the served app: sign-in form, session cookie, and no clinical bytes without a live session.

Streamlit serves every image and download of a session from ``/media/<id>`` to anyone who has the URL; its
script code cannot set HttpOnly cookies. So the app is started as an ASGI ``st.App`` (``serve.py``) with:

* ``GET/POST /_usegan/signin``: a plain HTML form (CSRF double-submit cookie). Success starts a server-side session
  (:meth:`~usegan.store.Store.start_session`) and sets ``usegan_session``: the session id signed with
  itsdangerous, ``HttpOnly; SameSite=Lax; Path=/`` (``Secure`` when ``USEGAN_SECURE_COOKIES``), plus a long-lived
  signed trusted-device cookie for the throttling in :mod:`usegan.store.auth`. Then 303 to ``next`` (deep links).
* ``GET /_usegan/signout?t=...``: ends every session of the user (sign-out everywhere) and clears the cookie;
  ``t`` is a token bound to the session, so another site cannot sign a user out.
* :class:`ClinicalGuard` middleware: ``/media/*`` answers 403 unless the request carries a live session cookie;
  page loads without one are redirected to the sign-in form with ``next`` = the page asked for; the agent API
  (which could drive the app without a browser) is refused.

The Streamlit scripts read the same cookie (``st.context.cookies``) through :func:`session_from_cookie`.
"""

from __future__ import annotations

import hashlib
import html
import re
import secrets
from urllib.parse import quote, urlencode

from usegan.settings import get_settings
from usegan.tokens import TokenSigner, load_secret

SESSION_COOKIE = "usegan_session"
DEVICE_COOKIE = "usegan_device"
CSRF_COOKIE = "usegan_csrf"
PREFIX = "/_usegan"
_PAGE_PATH = re.compile(r"^/(?:[A-Za-z0-9_-]+/?)?$")
_SIGNERS: dict[str, TokenSigner] = {}
ACTIVE = False  # set by serve.py: the scripts refuse to show clinical content when the guard is not in front


def activate() -> None:
    global ACTIVE
    ACTIVE = True


def signer(settings=None) -> TokenSigner:
    settings = settings or get_settings()
    key = str(settings.data_dir)
    if key not in _SIGNERS:
        _SIGNERS[key] = TokenSigner(load_secret(settings.data_dir))
    return _SIGNERS[key]


def session_from_cookie(cookie: str | None, settings=None) -> str | None:
    """The session id inside a ``usegan_session`` cookie value, or ``None`` if it is missing or forged."""
    settings = settings or get_settings()
    return signer(settings).unsign("session", cookie, settings.session_max_s)


def signout_token(session_id: str, settings=None) -> str:
    return signer(settings).sign("signout", hashlib.sha256(session_id.encode()).hexdigest()[:32])


def signout_url(session_id: str, settings=None) -> str:
    return f"{PREFIX}/signout?" + urlencode({"t": signout_token(session_id, settings)})


def safe_next(target: str | None) -> str:
    """Only same-site relative paths are followed after sign-in (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target or "\n" in target:
        return "/"
    return target if not target.startswith(PREFIX) else "/"


def _cookies(scope) -> dict[str, str]:
    from http.cookies import SimpleCookie

    for name, value in scope.get("headers", ()):
        if name == b"cookie":
            jar = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:
                return {}
            return {k: m.value for k, m in jar.items()}
    return {}


def _live_user(session_cookie: str | None, touch: bool = False):
    from usegan.web.process import get_store

    session_id = session_from_cookie(session_cookie)
    if session_id is None:
        return None, None
    return get_store().session_user(session_id, touch=touch), session_id


class ClinicalGuard:
    """ASGI middleware in front of Streamlit (see the module docstring)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        from starlette.concurrency import run_in_threadpool
        from starlette.responses import PlainTextResponse, RedirectResponse, Response

        path = scope.get("path", "")
        if path.startswith("/_stcore/agent/"):
            return await PlainTextResponse("not available", status_code=404)(scope, receive, send)
        guarded_media = path.startswith("/media/")
        page_load = scope.get("method") == "GET" and bool(_PAGE_PATH.match(path))
        if guarded_media or page_load:
            cookie = _cookies(scope).get(SESSION_COOKIE)
            user, _ = await run_in_threadpool(_live_user, cookie)
            if user is None:
                if guarded_media:
                    response: Response = PlainTextResponse("sign in first", status_code=403, headers=_NO_STORE)
                else:
                    query = scope.get("query_string", b"").decode("latin-1")
                    target = path + (f"?{query}" if query else "")
                    response = RedirectResponse(f"{PREFIX}/signin?next={quote(target, safe='')}", status_code=303)
                return await response(scope, receive, send)
            if guarded_media:
                return await self.app(scope, receive, _no_store_send(send))
        return await self.app(scope, receive, send)


_NO_STORE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def _no_store_send(send):
    """Clinical media must not stay in shared caches or the browser's disk cache after sign-out."""

    async def wrapped(message):
        if message["type"] == "http.response.start":
            headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"cache-control"]
            headers.append((b"cache-control", b"no-store"))
            message = {**message, "headers": headers}
        await send(message)

    return wrapped


# -- routes -----------------------------------------------------------------------------------------------------
def _cookie_kwargs(settings, **extra) -> dict:
    return {"httponly": True, "secure": bool(settings.secure_cookies), "samesite": "lax", "path": "/", **extra}


async def signin(request):
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import RedirectResponse

    from usegan.store import AuthError
    from usegan.store.auth import ThrottledError
    from usegan.web.process import get_store

    settings = get_settings()
    target = safe_next(request.query_params.get("next"))
    if request.method == "GET":
        user, _ = await run_in_threadpool(_live_user, request.cookies.get(SESSION_COOKIE))
        if user is not None:
            return RedirectResponse(target, status_code=303)
        return _form(settings, target, "", 200)
    form = await request.form()
    csrf_cookie, csrf_field = request.cookies.get(CSRF_COOKIE, ""), str(form.get("csrf", ""))
    if not csrf_cookie or not secrets.compare_digest(csrf_cookie, csrf_field):
        return _form(settings, target, "The sign-in form expired: please try again.", 400)
    username = str(form.get("username", ""))[:200]
    password = str(form.get("password", ""))[:1024]
    client = request.client.host if request.client else ""
    sign = signer(settings)
    device_value = sign.unsign("device", request.cookies.get(DEVICE_COOKIE), settings_device_age(settings))
    device = None
    if device_value and " " in device_value:
        device_user, device_id = device_value.split(" ", 1)
        device = device_id if device_user == username.strip() else None
    store = get_store()
    try:
        user = await run_in_threadpool(store.authenticate, username, password, client=client, device=device)
    except ThrottledError as exc:
        return _form(settings, target, str(exc), 429)
    except AuthError:
        return _form(settings, target, "Wrong user name or password.", 401)
    except Exception as exc:  # a full disk, a damaged database: one sentence, details in the server log
        import logging

        logging.getLogger("usegan.app").warning("sign-in failed: %s", exc, exc_info=exc)
        return _form(settings, target, f"Signing in failed: {exc}. Try again; if it persists, tell IT.", 503)
    session_id = await run_in_threadpool(store.start_session, user.username, client=client)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(SESSION_COOKIE, sign.sign("session", session_id), **_cookie_kwargs(settings))
    if device is None:
        trusted = sign.sign("device", f"{user.username} {secrets.token_urlsafe(16)}")
        response.set_cookie(
            DEVICE_COOKIE, trusted, **_cookie_kwargs(settings, samesite="strict", path=PREFIX,
                                                     max_age=settings_device_age(settings))
        )  # fmt: skip
    response.delete_cookie(CSRF_COOKIE, path=PREFIX)
    return response


def settings_device_age(settings) -> int:
    from usegan.store.auth import AuthPolicy

    return AuthPolicy().device_max_age_s


async def signout(request):
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import RedirectResponse

    settings = get_settings()
    cookie = request.cookies.get(SESSION_COOKIE)
    user, session_id = await run_in_threadpool(_live_user, cookie)
    token = request.query_params.get("t", "")
    expected = hashlib.sha256(session_id.encode()).hexdigest()[:32] if session_id else None
    if user is not None and expected and signer(settings).unsign("signout", token, settings.session_max_s) == expected:
        from usegan.web.process import get_store

        await run_in_threadpool(get_store().end_user_sessions, user.username, by=user.username)
    response = RedirectResponse(f"{PREFIX}/signin", status_code=303)
    if user is None or expected:
        response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def routes() -> list:
    from starlette.routing import Route

    return [Route(f"{PREFIX}/signin", signin, methods=["GET", "POST"]), Route(f"{PREFIX}/signout", signout)]


def _form(settings, target: str, message: str, status: int):
    from starlette.responses import HTMLResponse

    csrf = secrets.token_urlsafe(24)
    body = SIGNIN_HTML.format(
        action=html.escape(f"{PREFIX}/signin?next={quote(target, safe='')}"),
        csrf=csrf,
        message=f'<p class="error" role="alert">{html.escape(message)}</p>' if message else "",
    )
    response = HTMLResponse(body, status_code=status, headers={**_NO_STORE, **_PAGE_HEADERS})
    response.set_cookie(CSRF_COOKIE, csrf, **_cookie_kwargs(settings, samesite="strict", path=PREFIX))
    return response


_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}

SIGNIN_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in - USE-GAN virtual elastography</title>
<style>
 body {{font-family: system-ui, sans-serif; background: #0e1117; color: #fafafa; margin: 0;}}
 main {{max-width: 420px; margin: 12vh auto; padding: 0 16px;}}
 h1 {{font-size: 1.6rem;}} p.note {{color: #a3a8b8; font-size: .9rem;}}
 form {{border: 1px solid #333845; border-radius: 8px; padding: 18px;}}
 label {{display: block; margin: 10px 0 4px;}}
 input {{width: 100%; box-sizing: border-box; padding: 8px; border-radius: 6px; border: 1px solid #555;
        background: #262730; color: #fafafa; font-size: 1rem;}}
 button {{margin-top: 16px; padding: 8px 18px; border: 0; border-radius: 6px; background: #ff4b4b;
         color: white; font-size: 1rem; cursor: pointer;}}
 .error {{background: #3e1c1f; color: #ffb4b4; padding: 8px 10px; border-radius: 6px;}}
</style></head>
<body><main>
<h1>USE-GAN virtual elastography</h1>
<p class="note">Sign in to review cases. Generated elastograms are virtual: a model's estimate, not a
measurement.</p>
{message}
<form method="post" action="{action}" autocomplete="on">
 <input type="hidden" name="csrf" value="{csrf}">
 <label for="username">User name</label>
 <input id="username" name="username" autocomplete="username" maxlength="64" required autofocus>
 <label for="password">Password</label>
 <input id="password" name="password" type="password" autocomplete="current-password" maxlength="128" required>
 <button type="submit">Sign in</button>
</form>
<p class="note">First start: an <code>admin</code> account is created and its random password printed once in
the server console. Administrators manage users on the Users page.</p>
</main></body></html>
"""
