"""The app process's one :class:`~usegan.store.Store` per database file, and its maintenance thread.

The app (Streamlit scripts and the HTTP guard alike) reaches the store through :func:`get_store`, so there is one
DuckDB writer per process. The first call starts a daemon thread that every ``checkpoint_every_s`` folds the
write-ahead log, forgets old sign-in failures and runs requests the CLI left in the command folder
(:mod:`usegan.web.commands`); at interpreter exit the store is checkpointed and closed (a clean stop leaves no WAL).
"""

from __future__ import annotations

import atexit
import logging
import threading
from typing import TYPE_CHECKING

from usegan.settings import Settings, get_settings

if TYPE_CHECKING:
    from usegan.store import Store

log = logging.getLogger("usegan.app")

_STORES: dict[str, Store] = {}
_LOCK = threading.Lock()
_STOP = threading.Event()


def get_store(settings: Settings | None = None, *, maintain: bool = True):
    """The process-wide Store for ``settings`` (default: the current settings); opened on first use, with the
    maintenance thread unless ``maintain`` is false (in-process tests). The pages, the HTTP guard and the background
    worker (:mod:`usegan.background`) all write through it: DuckDB lets one process own a file, and inside the
    process the Store's lock serialises the writes. A store closed meanwhile (a test, a shutdown) is opened afresh."""
    settings = settings or get_settings()
    key = str(settings.db_path.resolve())  # one store per file, however its path was spelled
    store = _STORES.get(key)
    if store is not None and not store.closed:
        return store
    with _LOCK:
        store = _STORES.get(key)
        if store is None or store.closed:
            store = _open(settings, maintain)
            _STORES[key] = store
    return store


def _open(settings: Settings, maintain: bool):
    from usegan.store import open_store
    from usegan.store.files import private_umask

    private_umask()
    store = open_store(settings)
    password = store.ensure_first_admin()
    if password:
        # Printed once to the server console, never shown in the browser.
        print(f"usegan: first start - created user 'admin' with password: {password}  (change it after signing in)")
    if maintain:
        threading.Thread(target=_maintain, args=(store, settings), name="usegan-maintenance", daemon=True).start()
    return store


def _maintain(store, settings: Settings) -> None:
    from usegan.command_folder import run_pending

    every = max(1, settings.checkpoint_every_s)
    command_poll = 1.0
    waited = 0.0
    while not _STOP.wait(command_poll):
        if store.closed:
            return
        try:
            run_pending(store, settings)
        except Exception:  # keep the thread alive; the request file says what failed
            log.exception("command folder")
        waited += command_poll
        if waited >= every:
            waited = 0.0
            try:
                store.checkpoint()
                store.forget_old_failures()
            except Exception:
                log.exception("periodic checkpoint")


@atexit.register
def close_all() -> None:
    """Checkpoint and close every store (interpreter exit, SIGTERM handled by the server)."""
    _STOP.set()
    with _LOCK:
        for store in _STORES.values():
            try:
                store.close()
            except Exception:  # pragma: no cover - closing at exit must not raise
                pass
        _STORES.clear()
