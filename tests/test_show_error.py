"""``show_error``: the user sees one line; the server log keeps a traceback for faults, not for store refusals."""

from __future__ import annotations

import logging

import pytest

from pages._common import show_error
from usegan.store import (
    AuthError,
    CaseWithdrawnError,
    NotFoundError,
    Refusal,
    ReviewSignedError,
    SignBlockedError,
    StaleImageError,
    StaleReviewError,
    StoreFullError,
)
from usegan.store.cases import DuplicateCaseError


@pytest.mark.parametrize(
    "error",
    [
        StaleImageError("re-cropped since"),
        StaleReviewError("changed by ana"),
        ReviewSignedError("signed"),
        CaseWithdrawnError("withdrawn"),
        AuthError("wrong password"),
        NotFoundError("no case abc"),
        SignBlockedError(["a confirmed score"]),
        DuplicateCaseError("already stored", "c1"),
    ],
)
def test_a_refusal_is_logged_without_a_traceback(error, caplog):
    assert isinstance(error, Refusal)
    with caplog.at_level(logging.WARNING, logger="usegan.app"):
        show_error("Could not save", error)
    (record,) = [r for r in caplog.records if r.name == "usegan.app"]
    assert str(error) in record.getMessage() and record.exc_info is None


@pytest.mark.parametrize("error", [StoreFullError("disk full"), RuntimeError("boom"), KeyError("x")])
def test_a_fault_is_logged_with_its_traceback(error, caplog):
    with caplog.at_level(logging.WARNING, logger="usegan.app"):
        show_error("Could not save", error)
    (record,) = [r for r in caplog.records if r.name == "usegan.app"]
    assert record.exc_info is not None and record.exc_info[1] is error
