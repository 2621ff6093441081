"""Which checkpoint generates a mode right now: the registry's active version, else the bundled model.

Cheap enough for every page run (one indexed SQL row + a ``stat``; the bundled folder is read again only when
its ``*.pt`` files change), so the app can key its model cache on :func:`active_model_key` and pick up a
promotion or a rollback without a restart.
"""

from __future__ import annotations

from pathlib import Path

from usegan.checkpoint import MODES, bundled_checkpoints


class NoModelError(LookupError):
    """No usable checkpoint for a mode; the message says where it looked."""


def bundled_checkpoint(mode: str, model_dir: str | Path | None = None) -> Path | None:
    """The newest bundled checkpoint of ``mode`` in ``model_dir`` (default ``settings.model_dir``), or ``None``."""
    if model_dir is None:
        from usegan.settings import get_settings

        model_dir = get_settings().model_dir
    directory = Path(model_dir)
    return bundled_checkpoints(directory).get(mode)


def active_checkpoint(store, mode: str, model_dir: str | Path | None = None) -> Path:
    """The checkpoint file that generates ``mode``: the registry's active version whose file exists, else the
    bundled one. ``store`` may be ``None`` (bundled only). Raises :class:`NoModelError` when there is neither."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if store is not None:
        record = store.registry.active(mode)
        if record is not None and Path(record.path).is_file():
            return Path(record.path)
    path = bundled_checkpoint(mode, model_dir)
    if path is None:
        raise NoModelError(f"no active {mode} model in the registry and no bundled {mode} checkpoint")
    return path


def active_model_key(store, mode: str, model_dir: str | Path | None = None) -> tuple[str, int]:
    """``(path, mtime_ns)`` of :func:`active_checkpoint`: a cache key that changes on promotion and rollback."""
    path = active_checkpoint(store, mode, model_dir)
    return str(path), path.stat().st_mtime_ns
