"""Which checkpoint generates a mode: the one owner of that decision, for the CLI, the app and fine-tuning alike.

Resolution order for a mode: the registry's *active* version whose file still exists, else the newest bundled
checkpoint in ``settings.model_dir`` (:func:`usegan.checkpoint.bundled_checkpoints`). ``store=None`` means "no
registry" (bundled only).

Cheap enough for every page run (one indexed SQL row + a ``stat``; the bundled folder is read again only when
its ``*.pt`` files change), so the app keys its model cache on :func:`model_key` and picks up a promotion or a
rollback without a restart.
"""

from __future__ import annotations

from pathlib import Path

from usegan.checkpoint import bundled_checkpoints
from usegan.vocab import Mode, values


class NoModelError(LookupError):
    """No usable checkpoint for a mode; the message says where it looked."""


def _model_dir(model_dir: str | Path | None) -> Path:
    if model_dir is None:
        from usegan.settings import get_settings

        return Path(get_settings().model_dir)
    return Path(model_dir)


def bundled(mode: str, model_dir: str | Path | None = None) -> Path | None:
    """The newest bundled checkpoint of ``mode`` in ``model_dir`` (default ``settings.model_dir``), or ``None``."""
    return bundled_checkpoints(_model_dir(model_dir)).get(mode)


def resolve(mode: str, store=None, model_dir: str | Path | None = None) -> Path:
    """The checkpoint file that generates ``mode``: the registry's active version whose file exists, else the
    bundled one. Raises :class:`NoModelError` (naming where it looked) when there is neither."""
    if mode not in values(Mode):
        raise ValueError(f"mode must be one of {values(Mode)}, got {mode!r}")
    if store is not None:
        record = store.registry.active(mode)
        if record is not None and Path(record.path).is_file():
            return Path(record.path)
    path = bundled(mode, model_dir)
    if path is None:
        registry = f" and no active {mode} model in the registry" if store is not None else ""
        raise NoModelError(f"no {mode} checkpoint in {_model_dir(model_dir)}{registry}")
    return path


def find(mode: str, store=None, model_dir: str | Path | None = None) -> Path | None:
    """:func:`resolve`, but ``None`` instead of :class:`NoModelError` (the app then says so instead of failing)."""
    try:
        return resolve(mode, store, model_dir)
    except NoModelError:
        return None


def available_modes(store=None, model_dir: str | Path | None = None) -> list[Mode]:
    """Modes with a usable checkpoint, strain first."""
    return [m for m in Mode if find(m, store, model_dir) is not None]


def model_key(mode: str, store=None, model_dir: str | Path | None = None) -> tuple[str, int]:
    """``(path, mtime_ns)`` of :func:`resolve`: a cache key that changes on promotion and rollback."""
    path = resolve(mode, store, model_dir)
    return str(path), path.stat().st_mtime_ns
