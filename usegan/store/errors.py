"""Errors raised by the case store; each message names the thing that went wrong and what to do about it."""

from __future__ import annotations


class StoreError(Exception):
    """Base class of every case-store error."""


class StoreFullError(StoreError):
    """The disk is full: the change was rolled back, nothing was half-written."""


class StoreBusyError(StoreError):
    """The database file is held (locked) by another process, normally the running app."""


class NotFoundError(StoreError, KeyError):
    """A case, review, user or model version does not exist."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class StaleReviewError(StoreError):
    """Optimistic-locking failure: the review changed since the caller read it ("changed by X at T — reload")."""


class StaleImageError(StoreError):
    """Optimistic-locking failure on a case's image: it was re-cropped since the caller read it (reload)."""


class ReviewSignedError(StoreError):
    """A signed review is immutable; only :meth:`~usegan.store.Store.amend` may follow it."""


class CaseWithdrawnError(StoreError):
    """The case was withdrawn (a soft delete): it stays in the archive, read-only; the message says by whom and why."""


class AuthError(StoreError):
    """Wrong user name or password, a disabled account or a locked-out account (message says which)."""


class ImageStoreError(StoreError):
    """An image file is missing or does not hash to its name."""


class SignBlockedError(StoreError, ValueError):
    """A reading cannot be signed yet; ``missing`` lists what it lacks, in words the reader acts on."""

    def __init__(self, missing: list[str], what: str = "the reading") -> None:
        super().__init__(f"{what} cannot be signed yet: missing {'; '.join(missing)}")
        self.missing = list(missing)
