"""What every page shares: the one Store, the cached models, the signed-in user, and error display.

The Store (the only DuckDB writer) and each generator are ``st.cache_resource`` singletons shared by all sessions
and threads; a generator is keyed on its checkpoint's path and modification time, so a new checkpoint file is
picked up without a restart, and it is never mutated after loading.
"""

from __future__ import annotations

import logging
import re
import threading

import streamlit as st

from usegan import VIRTUAL_LABEL
from usegan.settings import get_settings
from usegan.store.errors import Refusal  # the errors module only: no database code at page start-up
from usegan.vocab import Mode, Role
from usegan.web import guard

log = logging.getLogger("usegan.app")


def _route_through_app() -> None:
    # With a folder named pages/, Streamlit serves a process's first request for /<page> by running
    # pages/<page>.py directly (its legacy multipage mode), skipping app.py's navigation and login gate. Every page
    # guards itself (require_role), and this switches the legacy mode off for every later run.
    try:
        from streamlit.runtime.pages_manager import PagesManager

        PagesManager.uses_pages_directory = False
    except (ImportError, AttributeError):  # pragma: no cover - a Streamlit without this flag has no such mode
        pass


_route_through_app()

# How the pages name the elastography modes.
MODE_NAMES = {Mode.STRAIN: "Strain (SE)", Mode.SWE: "Shear-wave (SWE)"}

# Pages each role may open (the navigation in app.py only lists these).
ROLE_PAGES = {
    Role.ADMIN: ("worklist", "new_case", "review", "blinded", "audit", "teaching", "models", "users", "account"),
    Role.CLINICIAN: ("worklist", "new_case", "review", "blinded", "teaching", "account"),
    Role.RESEARCHER: ("audit", "teaching", "account"),
    Role.VIEWER: ("teaching", "account"),
}


def get_store():
    """The process-wide Store for the configured database (shared with the HTTP guard; usegan/web/process.py)."""
    from usegan.background import ensure_worker
    from usegan.web.process import get_store as process_store

    store = process_store(get_settings(), maintain=guard.ACTIVE)
    if guard.ACTIVE:  # the served app (not in-process tests): spool import and job collection in the background
        ensure_worker(get_settings(), store)  # already running under `usegan serve`; started here otherwise
    return store


@st.cache_resource(show_spinner=False, max_entries=8)
def _elastographer(path: str, mtime_ns: int):
    from usegan.inference import VirtualElastographer

    settings = get_settings()
    engine = VirtualElastographer.from_checkpoint(
        path, precision=settings.inference_precision, compile=settings.inference_compile, compile_on_demand=False
    )
    if engine.compile:  # compiled in the background only: no reader waits, the eager generator serves until then
        threading.Thread(target=engine.warm_up, name=f"compile {engine.info.version}", daemon=True).start()
    return engine


def get_elastographer(mode: str):
    """The generator for ``mode`` (registry's active, else bundled) or ``None`` when no checkpoint exists."""
    from usegan.active_model import find

    path = find(mode, get_store(), get_settings().model_dir)
    if path is None:
        return None
    return _elastographer(str(path), path.stat().st_mtime_ns)


def available_modes() -> list[str]:
    from usegan.active_model import available_modes as modes

    return modes(get_store(), get_settings().model_dir)


def current_user() -> dict | None:
    """``{"username", "role", "sid"}`` of this browser's live session, or ``None``.

    The session comes from this Streamlit session's state or, after a reload / in a second tab, from the HttpOnly
    ``usegan_session`` cookie the sign-in form set; every run checks it against the store (sign-out everywhere,
    idle timeout, disabled account, role change all take effect at the next run)."""
    auth = st.session_state.get("auth_user")
    session_id = auth.get("sid") if isinstance(auth, dict) else None
    if session_id is None and guard.ACTIVE:
        session_id = guard.session_from_cookie(st.context.cookies.get(guard.SESSION_COOKIE))
    user = get_store().session_user(session_id) if session_id else None
    if user is None:
        if auth is not None:
            st.session_state.pop("auth_user", None)
            st.session_state["common_signed_out"] = True
        return None
    auth = {"username": user.username, "role": user.role, "sid": session_id}
    st.session_state["auth_user"] = auth
    return auth


def sign_out(user: dict) -> None:
    """End every session of the user (all tabs and browsers) and forget this one's state."""
    get_store().end_user_sessions(user["username"], by=user["username"])
    for key in list(st.session_state.keys()):
        del st.session_state[key]
    st.session_state["common_signed_out"] = True


PENDING_CLICK = "common_pending_click"  # (page, button key, target) of a click its run has not carried out yet


def _record_click(page: str, key: str, target: object) -> None:
    st.session_state[PENDING_CLICK] = (page, key, target)


def clicked(container, label: str, *, key: str, page: str, target: object, **kwargs) -> bool:
    """A button for an action that must not be lost: True once, in the first run of ``page`` that reaches this
    button for the same ``target`` (e.g. the case, mode, image and reading version shown) after the click.

    ``if st.button(...)`` only sees a click in the run the click started; when another rerun request interrupts
    that run before it reaches the button (a canvas component reporting its first drawing late, on a loaded
    machine), the click is silently dropped. The click is recorded by ``on_click`` instead, which runs before the
    script, and kept until a run carries it out. A click is dropped when a run of another page starts
    (:func:`require_role`) or a run of ``page`` finishes without carrying it out (:func:`drop_pending_click`), so
    it never fires later, on another reading or after the reader has moved on.

    ``target`` names what the click acts on (the case, the reading version, the exercise), never a widget's value:
    the run that carries the click out reads the values the browser sent with it, and a value changed in the same
    gesture (a number typed, then the button clicked) reaches the server only with the click, after the button's
    arguments were fixed, so a target holding it would never match and the click would be lost."""
    container.button(label, key=key, on_click=_record_click, args=(page, key, target), **kwargs)
    if st.session_state.get(PENDING_CLICK) == (page, key, target):
        del st.session_state[PENDING_CLICK]
        return True
    return False


ASSIGNED_VALUES = "assigned_widget_values"  # session key: widget keys whose page-assigned value may not be shown yet


def assign_widget_value(key: str, value: object) -> None:
    """Give the keyed widget ``key`` a value from the page (in a run before the widget is built, or in a callback);
    build the widget with :func:`keyed_widget` so the browser is sure to show it."""
    st.session_state[key] = value
    st.session_state.setdefault(ASSIGNED_VALUES, set()).add(key)


def keyed_widget(build, *args, key: str, **kwargs):
    """``build(*args, key=key, **kwargs)`` (``st.text_area``, ``st.radio``, ...) such that a value the page assigned
    with :func:`assign_widget_value` reaches the browser.

    Streamlit sends an assigned value along with the widget only in the run that assigned it. When a rerun request
    stops that run before the widget is sent (the canvas reporting late, on a loaded machine), the next run keeps the
    value on the server while the browser shows the widget's default: after Reload, an empty conclusion over a signed
    reading (seen in the browser suite; the server still had the reading's text). Until the widget has been built
    once after the assignment, each run assigns the value again, so it goes out with the widget."""
    assigned = st.session_state.setdefault(ASSIGNED_VALUES, set())
    if key in assigned and key in st.session_state:
        st.session_state[key] = st.session_state[key]  # new in this run: sent with the widget
    value = build(*args, key=key, **kwargs)
    assigned.discard(key)
    return value


def drop_pending_click() -> None:
    """End of a page run that got this far: a click it did not carry out (another target now) is not kept."""
    st.session_state.pop(PENDING_CLICK, None)


def require_role(page: str) -> dict:
    """Stop the page unless the signed-in user's role may open ``page``; returns the user."""
    user = current_user()
    if user is None:
        try:
            st.switch_page("app.py")  # only possible in the legacy mode above: go to the sign-in page
        except st.errors.StreamlitAPIException:
            pass
        st.info("Please sign in first.")
        st.stop()
    if (pending := st.session_state.get(PENDING_CLICK)) and pending[0] != page:
        drop_pending_click()  # a click on another page that its run never carried out: the reader moved on
    if page not in ROLE_PAGES.get(user["role"], ()):
        st.warning(f"Your role ({user['role']}) cannot open this page. Ask an administrator if you need access.")
        st.stop()
    return user


def sidebar(user: dict | None) -> None:
    with st.sidebar:
        if user is not None:
            st.text(f"{user['username']}\nrole: {user['role']}")  # user-controlled: text, never markdown
            if user["role"] == "admin":
                blocked = get_store().throttled()
                if blocked:
                    st.warning(f"{len(blocked)} sign-in back-off(s) active: see Users.", icon=":material/lock:")
            if st.button("Sign out", key="common_sign_out", width="stretch", help="signs out every tab and browser"):
                sign_out(user)
                st.rerun()
            if guard.ACTIVE:
                _session_watch(user["sid"])
        st.caption(VIRTUAL_LABEL + ". Scores proposed by the algorithm must be confirmed by a clinician.")


def _session_watch(session_id: str) -> None:
    """Every few seconds, without counting as activity: an ended or idle session clears the page at once."""
    every = max(2.0, min(30.0, get_settings().session_idle_s / 4))

    @st.fragment(run_every=every)
    def watch() -> None:
        if get_store().session_user(session_id, touch=False) is None:
            st.rerun(scope="app")

    watch()


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&=^])")


def plain(text: object) -> str:
    """``text`` escaped so that Streamlit's markdown (titles, captions, alerts) shows it literally: every string a
    user, a scanner or a URL controls (case and patient ids, notes, names, file names, error details)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))


def show_error(what: str, exc: BaseException | None = None, todo: str = "") -> None:
    """A short error for the user (never a traceback); the traceback goes to the server log, except for a
    store :class:`~usegan.store.errors.Refusal` (stale, signed, withdrawn...: expected, not a fault). The exception's
    text may quote user input, so it is shown literally."""
    if exc is not None:
        log.warning("%s: %s", what, exc, exc_info=None if isinstance(exc, Refusal) else exc)
    detail = f": {plain(exc)}" if exc is not None and str(exc) else ""
    st.error(f"{what}{detail}." + (f" {todo}" if todo else ""))


FRAME_SUGGESTIONS = "frame_suggestions"  # session key: case id -> (B-mode sha, Framing) of a lesion small in the
# frame, measured on that image (review -> the re-crop tab of New case, which offers a box around it on that image only)
SHOWN_IMAGES = "shown_images"  # session key: case id -> the B-mode sha this session last showed or made (review,
# New case's re-crop tab): a change made elsewhere since is said, never silent


def open_review(case_id: str) -> None:
    """Go to the review page for ``case_id``."""
    st.session_state["review_case_id"] = case_id
    st.switch_page("pages/review.py")


STYLE = """
<style>
  .block-container {padding-top: 2.2rem; padding-bottom: 2rem;}
  .usegan-virtual {background: #3b1d00; color: #ffd79a; padding: 2px 8px; border-radius: 4px;
                   font-size: 0.85rem; display: inline-block; margin: 2px 0 6px 0;}
  .usegan-proposal {border-left: 4px solid #8a8a8a; padding-left: 10px;}
  .usegan-confirmed {border-left: 4px solid #1f77b4; padding-left: 10px;}
</style>
"""


def virtual_badge(text: str) -> None:
    st.markdown(f'<span class="usegan-virtual">{text}</span>', unsafe_allow_html=True)
