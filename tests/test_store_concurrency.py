"""Reviews under concurrency: lost-update refusal, signed immutability, amendments, threads, another process,
and a process killed in the middle of a save."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from tests.store_fixtures import LESION, bmode, fast_hasher_fixture, reading_basis, store_fixture  # noqa: F401
from usegan.store import AuthError, ReviewSignedError, StaleReviewError, open_store

REPO = Path(__file__).resolve().parent.parent


def test_second_writer_with_a_stale_version_is_refused(store):
    case_id = store.create_case(bmode(), organ="breast", created_by="dr_a")
    loaded = store.save_draft(case_id, "dr_a", {"lesion": {"x": 1}}, 3, "A's first", 0)
    # Both clinicians opened the review at row_version 1; A saves first.
    saved_by_a = store.save_draft(case_id, "dr_a", {}, 4, "A's second", loaded.row_version)
    with pytest.raises(StaleReviewError, match=r"changed by dr_a at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC — reload"):
        store.save_draft(case_id, "dr_b", {}, 2, "B overwrites", loaded.row_version)
    current = store.current_review(case_id)
    assert current.conclusion == "A's second" and current.row_version == saved_by_a.row_version
    # A second "first draft" (expected 0) is also stale.
    with pytest.raises(StaleReviewError):
        store.save_draft(case_id, "dr_b", {}, 2, "B new", 0)


def test_signed_review_is_immutable_and_amendment_is_a_new_version(store):
    case_id = store.create_case(bmode(), organ="thyroid", created_by="dr_a")
    rois = {"lesion": LESION}
    draft = store.save_draft(case_id, "dr_a", rois, None, "pending", 0, **reading_basis(store, case_id))
    with pytest.raises(ValueError, match="missing a confirmed score on Rago 1-5"):
        store.sign(case_id, "dr_a", draft.row_version)
    draft = store.save_draft(case_id, "dr_a", rois, 4, "Rago 4", draft.row_version)
    signed = store.sign(case_id, "dr_a", draft.row_version)
    assert signed.status == "signed" and signed.signed_by == "dr_a" and signed.signed_at is not None
    with pytest.raises(ReviewSignedError, match="amended"):
        store.save_draft(case_id, "dr_a", {}, 2, "edit after signing", signed.row_version)
    with pytest.raises(ReviewSignedError):
        store.sign(case_id, "dr_b", signed.row_version)
    with pytest.raises(ValueError, match="reason"):
        store.amend(case_id, "dr_b", {}, 5, "x", "  ", signed.row_version)
    with pytest.raises(StaleReviewError):
        store.amend(case_id, "dr_b", {}, 5, "x", "why", draft.row_version)
    amended = store.amend(
        case_id, "dr_b", rois, 5, "Rago 5 on second look", "posterior hardness missed", signed.row_version
    )
    history = store.review_history(case_id)
    assert [r.version for r in history] == [1, 2]
    assert history[0] == signed  # the signed original is untouched
    assert history[1] == amended and amended.amends_review_id == signed.review_id
    assert amended.status == "amended" and amended.amend_reason == "posterior hardness missed"
    case = store.get_case(case_id)
    assert (case.status, case.confirmed_score, case.reviewer) == ("amended", 5, "dr_b")


def test_only_enabled_clinicians_and_admins_review(store):
    store.add_user("student", "teaching-only-1", "viewer", created_by="test")
    case_id = store.create_case(bmode(), organ="breast", created_by="dr_a")
    with pytest.raises(AuthError, match="viewer"):
        store.save_draft(case_id, "student", {}, 1, "", 0)
    with pytest.raises(AuthError, match="unknown user"):
        store.save_draft(case_id, "nobody", {}, 1, "", 0)
    draft = store.save_draft(case_id, "dr_b", {}, 1, "", 0)
    store.set_disabled("dr_b", changed_by="test")
    with pytest.raises(AuthError, match="disabled"):
        store.sign(case_id, "dr_b", draft.row_version)


def test_cursors_of_ended_threads_are_closed_not_kept(store):
    """The app runs every page run on a new thread: one cursor per ended thread would pile up for ever."""
    case_id = store.create_case(bmode(), organ="breast", created_by="dr_a")
    seen = []
    for _ in range(50):  # fifty page runs, one after the other
        thread = threading.Thread(target=lambda: seen.append(store.get_case(case_id).case_id))
        thread.start()
        thread.join()
    assert seen == [case_id] * 50
    assert len(store._cursors) <= 2  # this thread's and the last run's (closed when the next cursor is made)
    assert store.current_review(case_id) is None  # this thread's cursor still works


def test_threads_share_one_store(store):
    case_ids = [store.create_case(bmode(i), organ="breast", created_by="dr_a") for i in range(6)]
    errors: list[BaseException] = []
    stale = []

    def session(user: str) -> None:
        try:
            for case_id in case_ids:
                try:
                    store.save_draft(case_id, user, {}, 3, f"by {user}", 0)
                except StaleReviewError:
                    stale.append(case_id)
                store.worklist(status="draft")
                store.get_case(case_id)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=session, args=(u,)) for u in ("dr_a", "dr_b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    # Exactly one of the two sessions created each draft; the other was told it was stale.
    assert sorted(stale) == sorted(case_ids)
    assert all(store.current_review(c).row_version == 1 for c in case_ids)


def _python(code: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_another_process_gets_a_clear_busy_error(store):
    child = _python("""
        from usegan.store import open_store, StoreBusyError
        try:
            open_store()
        except StoreBusyError as exc:
            print(exc)
    """)
    out, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    assert f"the database {store.db_path} is open in another process (the app?)" in out
    assert "inbox" in out


def test_killed_mid_save_keeps_the_previous_state(store):
    case_id = store.create_case(bmode(), organ="breast", created_by="dr_a")
    committed = store.save_draft(case_id, "dr_a", {"lesion": {"x": 1}}, 3, "committed", 0)
    audit_rows = len(store.audit_log(limit=1000))
    store.close()  # hand the file to the child, like the app restarting
    child = _python(f"""
        import sys, time
        from usegan.store import open_store
        store = open_store()
        real_audit = store.audit
        def audit_then_hang(*args, **kwargs):
            real_audit(*args, **kwargs)  # the review row and its audit row are written, not committed
            print("in-transaction", flush=True)
            time.sleep(120)
        store.audit = audit_then_hang
        store.save_draft({case_id!r}, "dr_a", {{}}, 5, "never committed", {committed.row_version})
    """)
    assert child.stdout.readline().strip() == "in-transaction", child.stderr.read()
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    with open_store() as reopened:
        review = reopened.current_review(case_id)
        assert (review.conclusion, review.confirmed_score, review.row_version) == ("committed", 3, 1)
        assert reopened.get_case(case_id).confirmed_score == 3
        assert len(reopened.audit_log(limit=1000)) == audit_rows
        # and the store is writable again
        reopened.save_draft(case_id, "dr_a", {}, 4, "after restart", review.row_version)
