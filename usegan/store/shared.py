"""One :class:`Store` per database file per process: what the app's pages and its background worker share.

DuckDB lets one process own a database file; inside that process every thread must go through the same Store so
that writes are serialised by one lock. :func:`shared_store` hands out that instance (opened on first use).
"""

from __future__ import annotations

import threading

_LOCK = threading.Lock()
_STORES: dict[str, object] = {}


def shared_store(settings=None):
    """The process-wide :class:`usegan.store.Store` for ``settings.db_path`` (opened, and migrated, once)."""
    from usegan.store.db import open_store

    if settings is None:
        from usegan.settings import get_settings

        settings = get_settings()
    key = str(settings.db_path.resolve())
    with _LOCK:
        store = _STORES.get(key)
        if store is None or store.closed:  # closed by a test or a shutdown: open afresh
            store = _STORES[key] = open_store(settings)
        return store


def close_shared_stores() -> None:
    """Close every shared store (process shutdown, tests)."""
    with _LOCK:
        for store in _STORES.values():
            store.close()
        _STORES.clear()
