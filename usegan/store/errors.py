"""Errors raised by the case store; each message names the thing that went wrong and what to do about it."""

from __future__ import annotations


class StoreError(Exception):
    """Base class of every case-store error."""


class Refusal(StoreError):
    """The store declined a change for a reason the user acts on (the data changed since they read it, it is
    signed or withdrawn, a sign-off lacks something, a wrong password, no such record): expected, not a fault, so
    it is logged without a traceback."""


class StoreFullError(StoreError):
    """The disk is full: the change was rolled back, nothing was half-written."""


class StoreBusyError(StoreError):
    """The database file is held (locked) by another process, normally the running app."""


class NotFoundError(Refusal, KeyError):
    """A case, review, user or model version does not exist."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class StaleReviewError(Refusal):
    """Optimistic-locking failure: the review changed since the caller read it ("changed by X at T — reload")."""


class StaleImageError(Refusal):
    """Optimistic-locking failure on a case's image: it was re-cropped since the caller read it (reload)."""


class ReviewSignedError(Refusal):
    """A signed review is immutable; only :meth:`~usegan.store.Store.amend` may follow it."""


class CaseWithdrawnError(Refusal):
    """The case was withdrawn (a soft delete): it stays in the archive, read-only; the message says by whom and why."""


class AuthError(Refusal):
    """Wrong user name or password, a disabled account or a locked-out account (message says which)."""


class ImageStoreError(StoreError):
    """An image file is missing or does not hash to its name."""


class ChangeRefusedError(Refusal, ValueError):
    """A change the store will not make as asked (a withdrawal without a reason or of a signed case, a re-crop that
    changes nothing or of a case that already has a reading); the message says what to do instead."""


class SignBlockedError(Refusal, ValueError):
    """A reading cannot be signed yet; ``missing`` lists what it lacks, in words the reader acts on."""

    def __init__(self, missing: list[str], what: str = "the reading") -> None:
        super().__init__(f"{what} cannot be signed yet: missing {'; '.join(missing)}")
        self.missing = list(missing)
