# ruff: noqa: F811
"""The review page's reading flow (issue 13) with AppTest: what signing lacks is named, a stale page (another user,
or another tab of the same user) cannot overwrite or sign over newer work, reload shows it, and a typed conclusion
is replaced by a template only after asking. The browser versions of these are in test_browser_signing.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_app import app, environment, settings_of  # noqa: F401  (fixtures: the arguments below shadow them)

LESION = {"lesion": {"type": "rect", "x": 30, "y": 30, "w": 30, "h": 30}}


SLOW_RUN_S = 300  # a review-page run generates and scores: minutes, not seconds, on a loaded 2-core machine


def _new_case(app) -> str:
    at = app("doc", "clinician")
    at.default_timeout = SLOW_RUN_S
    at.switch_page("pages/new_case.py").run()
    at.button(key="new_case_open_sample").click().run()
    return at.session_state["review_case_id"]


def _open(app, case_id: str, user: str = "doc", role: str = "clinician"):
    at = app(user, role)
    at.default_timeout = SLOW_RUN_S
    at.session_state["review_case_id"] = case_id
    return at.switch_page("pages/review.py").run()


def _store(environment):
    from usegan.store import Store

    settings = settings_of(environment)
    return Store(settings.db_path, settings.images_dir)


def _draw_lesion(at, case_id: str, bmode_sha: str, roi) -> None:
    """Leave ``roi`` as the lesion the canvas holds on the image ``bmode_sha`` (as a fresh canvas drawn from the kept
    marks, what the page does when a new ROI replaces one) and run the page."""
    from usegan.services.signing import marks_keys
    from usegan.ui.roi_canvas import Marks

    state_key, revision, _ = marks_keys("review", case_id, "strain", bmode_sha)
    at.session_state[state_key] = Marks(rois={"lesion": roi})
    at.session_state[revision] = 1
    at.run()


def _small_lesion_case(app, environment):
    """A new sample case open in review with a 12 px lesion ROI drawn (small in its 96 px frame): ``(page, case)``."""
    from usegan.scoring.roi import Rect

    case_id = _new_case(app)
    at = _open(app, case_id)
    with _store(environment) as s:
        case = s.get_case(case_id)
    _draw_lesion(at, case_id, case.bmode_sha, Rect(2, 2, 12, 12))
    return at, case


def test_signing_with_nothing_is_refused_with_every_missing_item(app, environment):
    case_id = _new_case(app)
    at = _open(app, case_id)
    at.button(key="review_sign").click().run()
    errors = " ".join(e.value for e in at.error)
    assert "Not signed: missing a lesion ROI" in errors
    for item in ("the algorithm's proposal computed on the elastogram shown", "a confirmed score on Tsukuba 1-5",
                 "a conclusion"):  # fmt: skip
        assert item in errors
    with _store(environment) as s:
        assert s.current_review(case_id, "strain") is None  # nothing was written
    # a rerun the reader did not ask for (the canvas reporting its first drawing) keeps the refusal, up to date
    at.run()
    assert [e.value for e in at.error] == [errors]
    at.radio(key=f"review_score_{case_id}_strain").set_value("4").run()
    (still,) = [e.value for e in at.error]
    assert still.startswith("Not signed: missing a lesion ROI") and "a confirmed score" not in still


def _two_pages(app, environment, second_user: str, second_role: str):
    case_id = _new_case(app)
    with _store(environment) as s:  # the lesion ROI (the canvas itself needs a browser)
        s.save_draft(case_id, "doc", LESION, None, "", 0)
    first = _open(app, case_id)
    second = _open(app, case_id, second_user, second_role)
    return case_id, first, second


def _sign(at, case_id: str, score: int, text: str) -> None:
    at.radio(key=f"review_score_{case_id}_strain").set_value(score)
    at.text_area(key=f"review_conclusion_{case_id}_strain").input(text).run()
    at.button(key="review_sign").click().run()


def _conflict(app, environment, second_user: str, second_role: str) -> None:
    case_id, first, second = _two_pages(app, environment, second_user, second_role)
    _sign(second, case_id, 5, "Signed by the second page.")
    assert any("signed" in m.value for m in second.success)
    first.radio(key=f"review_score_{case_id}_strain").set_value(3)
    first.text_area(key=f"review_conclusion_{case_id}_strain").input("First page's work.").run()
    first.button(key="review_save").click().run()
    errors = " ".join(e.value for e in first.error)
    assert f"changed by {second_user} at" in errors and "— reload" in errors
    first.button(key="review_sign").click().run()  # a stale Sign is refused too, never a silent no-op
    assert f"changed by {second_user} at" in " ".join(e.value for e in first.error)
    with _store(environment) as s:
        stored = s.current_review(case_id, "strain")
        assert (stored.status, stored.confirmed_score, stored.signed_by) == ("signed", 5, second_user)
    first.button(key="review_reload").click().run()  # reload shows the other page's work, under new widget keys
    assert first.radio(key=f"review_score_{case_id}_strain_r1").value == 5
    assert first.text_area(key=f"review_conclusion_{case_id}_strain_r1").value == "Signed by the second page."
    assert not [r for r in first.radio if r.key == f"review_score_{case_id}_strain"]  # the stale key is gone
    assert first.button(key="review_amend") and not [w for w in first.warning if "— reload" in w.value]


def test_two_users_a_stale_save_and_sign_are_refused_and_reload_shows_the_other_work(app, environment):
    _conflict(app, environment, "admin", "admin")


def test_two_tabs_of_one_user_a_stale_tab_cannot_overwrite_the_other(app, environment):
    _conflict(app, environment, "doc", "clinician")


def test_template_insertion_asks_before_replacing_typed_text(app, environment):
    case_id = _new_case(app)
    at = _open(app, case_id)
    at.radio(key=f"review_score_{case_id}_strain").set_value(4)
    at.text_area(key=f"review_conclusion_{case_id}_strain").input("My own words.").run()
    at.button(key="review_template").click().run()
    assert at.text_area(key=f"review_conclusion_{case_id}_strain").value == "My own words."
    assert any("Replace the conclusion you typed" in w.value for w in at.warning)
    at.button(key="review_template_keep").click().run()
    assert at.text_area(key=f"review_conclusion_{case_id}_strain").value == "My own words."
    at.button(key="review_template").click().run()
    at.button(key="review_template_replace").click().run()
    assert "Tsukuba 4" in at.text_area(key=f"review_conclusion_{case_id}_strain").value


def test_swe_reading_is_confirmed_on_the_swe_scale_not_tsukuba(app, environment):
    case_id = _new_case(app)
    at = _open(app, case_id)
    at.segmented_control(key="review_mode").set_value("swe").run()
    picker = at.radio(key=f"review_score_{case_id}_swe")
    assert picker.options == ["1", "2"] and "breast SWE class 1-2" in picker.label
    assert Path(settings_of(environment).db_path).exists()


def test_a_lesion_outlined_in_strain_is_carried_to_swe_on_the_same_image_and_said(app, environment):
    from usegan.scoring.roi import Rect
    from usegan.services.signing import marks_keys
    from usegan.ui.roi_canvas import Marks

    case_id = _new_case(app)
    at = _open(app, case_id)
    with _store(environment) as s:
        sha = s.get_case(case_id).bmode_sha
    _draw_lesion(at, case_id, sha, Rect(20, 20, 30, 24))
    assert not [i for i in at.info if "carried over" in i.value]  # drawn here: nothing to say
    at.segmented_control(key="review_mode").set_value("swe").run()
    assert not at.exception
    assert at.session_state[marks_keys("review", case_id, "swe", sha).marks].rois["lesion"] == Rect(20, 20, 30, 24)
    assert any("carried over from the Strain (SE) reading" in i.value for i in at.info)
    # back from the canvas a pixel off (its scaling round trip): still the carried ROI, still said
    state_key, revision, _ = marks_keys("review", case_id, "swe", sha)
    at.session_state[state_key] = Marks(rois={"lesion": Rect(21, 20, 30, 24)})
    at.session_state[revision] = 1  # a fresh canvas drawn from these marks
    at.run()
    assert at.session_state[state_key].rois["lesion"] == Rect(21, 20, 30, 24)
    assert any("carried over from the Strain (SE) reading" in i.value for i in at.info)
    at.button(key="review_sign").click().run()  # refused for what is missing, but not for the lesion ROI
    errors = " ".join(e.value for e in at.error)
    assert "Not signed: missing" in errors and "a lesion ROI" not in errors
    # redrawn in SWE: its own now, the note goes, and strain keeps its ROI
    at.session_state[state_key] = Marks(rois={"lesion": Rect(10, 10, 30, 24)})
    at.session_state[revision] = 2
    at.run()
    assert not [i for i in at.info if "carried over" in i.value]
    assert at.session_state[marks_keys("review", case_id, "strain", sha).marks].rois["lesion"] == Rect(20, 20, 30, 24)


def test_marks_drawn_before_a_recrop_stay_with_the_earlier_image(app, environment):
    from usegan.intake.pipeline import Intake
    from usegan.screencrop import CropBox
    from usegan.services.signing import marks_keys

    at, case = _small_lesion_case(app, environment)
    case_id = case.case_id
    state_key = marks_keys("review", case_id, "strain", case.bmode_sha).marks
    framing_lines = lambda: [m.value for m in [*at.caption, *at.warning] if "Lesion spans" in m.value]  # noqa: E731
    assert framing_lines() and "small in the frame" in framing_lines()[0]
    with _store(environment) as s:  # New case's re-crop tab, as another step of the same reader
        Intake(s, settings_of(environment)).recrop(case_id, CropBox(0, 0, 64, 64), user="doc", reason="frame it")
    at.run()
    # the earlier image's lesion ROI is not drawn, measured or proposed on the new image
    assert not at.exception and not framing_lines()
    with _store(environment) as s:
        assert marks_keys("review", case_id, "strain", s.get_case(case_id).bmode_sha).marks != state_key  # per image


def test_a_small_lesion_gets_a_framed_reading_and_one_click_recrops_the_case_to_its_box(app, environment):
    from usegan.scoring.roi import Rect
    from usegan.services.signing import marks_keys

    at, before = _small_lesion_case(app, environment)
    case_id = before.case_id
    assert not at.exception
    framed_lines = [m.value for m in at.markdown if "framed box" in m.value]
    # the tiny test model paints every pixel the same hard blue: Tsukuba 5 framed and whole, labelled as both
    assert framed_lines == [
        "Proposed on the framed box: **5** (5: lesion and surrounding tissue hard) · on the whole image: **5**"
    ]
    captions = [caption for image in at.image for caption in image.captions]
    assert "VIRTUAL STRAIN elastogram - model tiny-strain-test" in captions and "B-mode in the box" in captions
    at.button(key=f"review_frame_{case_id}_strain").click().run()
    assert not at.exception
    assert any("re-cropped to the framed box" in m.value for m in at.success)
    at.run()  # a rerun the reader did not ask for (the canvas reporting its drawing) keeps the note
    assert any("re-cropped to the framed box" in m.value for m in at.success)
    with _store(environment) as s:
        after = s.get_case(case_id)
        log = s.audit_log(entity_id=case_id, limit=20)
    # the box: 3x the lesion's 12 px = 36 px, moved inside the image at its top-left corner
    assert (after.height, after.width) == (36, 36) and after.bmode_sha != before.bmode_sha
    recrops = log[log["action"] == "case.recrop"]
    assert len(recrops) == 1 and "framed on the lesion" in recrops.iloc[0]["after"]
    # the reader's lesion came along onto the new image, where it no longer is small in the frame
    carried = at.session_state[marks_keys("review", case_id, "strain", after.bmode_sha).marks]
    assert carried.rois == {"lesion": Rect(2, 2, 12, 12)}
    assert not [m for m in at.warning if "small in the frame" in m.value]
    assert not [m for m in at.markdown if "framed box" in m.value]


def test_a_stale_tab_cannot_recrop_a_case_another_tab_already_recropped(app, environment):
    from usegan.scoring.roi import Rect

    case_id = _new_case(app)
    with _store(environment) as s:
        sha = s.get_case(case_id).bmode_sha
    tabs = [_open(app, case_id), _open(app, case_id)]
    for at in tabs:
        _draw_lesion(at, case_id, sha, Rect(40, 40, 12, 12))
    first, stale = tabs
    first.button(key=f"review_frame_{case_id}_strain").click().run()
    with _store(environment) as s:
        after = s.get_case(case_id)
    assert after.bmode_sha != sha and not first.exception
    # the stale tab's click runs its page again, which reads the case as it is now: the new image, on which this
    # tab drew nothing, so there is no framed box to adopt (a click racing the other tab's run is refused by the
    # store: tests/test_intake.py)
    stale.button(key=f"review_frame_{case_id}_strain").click().run()
    assert not stale.exception and not stale.error
    assert not [m for m in stale.markdown if "framed box" in m.value]
    for _ in range(2):  # said, and still said on the next run, while the page shows that image
        assert any("re-cropped elsewhere" in w.value for w in stale.warning)
        stale.run()
    assert not any("re-cropped elsewhere" in w.value for w in first.run().warning)  # the tab that did it
    with _store(environment) as s:  # the first tab's crop stands; no second re-crop of the new image
        assert s.get_case(case_id).crop == after.crop
        assert len(s.audit_log(entity_id=case_id, limit=50).query("action == 'case.recrop'")) == 1


def test_the_open_case_is_in_the_address_so_a_reload_opens_it_again(app, environment):
    case_id = _new_case(app)
    at = _open(app, case_id)
    assert at.query_params["case"] == case_id
    reloaded = app("doc", "clinician")  # a new browser session (a reload) with only the address to go by
    reloaded.default_timeout = SLOW_RUN_S
    reloaded.query_params["case"] = case_id
    reloaded.switch_page("pages/review.py").run()
    assert not reloaded.exception and reloaded.title[0].value == f"Case {case_id}"


def test_a_sign_click_whose_run_was_interrupted_is_carried_out_once_by_the_next_run(app, environment):
    """On a loaded machine another rerun request (the canvas reporting its first drawing late) can stop the run a
    click started before it reaches the button; the click, recorded by the button's callback, must still count."""
    from pages._common import PENDING_CLICK

    case_id = _new_case(app)
    at = _open(app, case_id)
    assert not [e for e in at.error if "Not signed" in e.value]  # no click yet: only the "still needed" caption
    with _store(environment) as s:
        bmode_sha = s.get_case(case_id).bmode_sha
    at.session_state[PENDING_CLICK] = ("review", "review_sign", (case_id, "strain", bmode_sha, 0))  # what the
    at.run()  # callback left behind when its run was stopped; this run is the next one, with no click of its own
    assert "Not signed: missing a lesion ROI" in " ".join(e.value for e in at.error)
    assert PENDING_CLICK not in at.session_state  # carried out once, not again by the next run


def test_a_pending_click_for_another_reading_or_page_is_dropped_not_kept_for_later(app, environment):
    from pages._common import PENDING_CLICK

    case_id = _new_case(app)
    at = _open(app, case_id)
    at.session_state[PENDING_CLICK] = ("review", "review_sign", (case_id, "strain", "another image", 0))
    at.run()
    assert PENDING_CLICK not in at.session_state and not [e for e in at.error if "Not signed" in e.value]
    at.session_state[PENDING_CLICK] = ("review", "review_sign", ("C-other", "strain", "x", 0))
    at.switch_page("pages/worklist.py").run()  # a run of another page drops it before anything else
    assert PENDING_CLICK not in at.session_state


@pytest.mark.parametrize("box_side", [36, 40])
def test_a_recrop_click_whose_run_was_interrupted_counts_for_its_own_box_only(app, environment, box_side):
    """The Re-crop button shares the review page with the canvas, so its click can lose its run as Sign's can
    (above): the next run carries it out when it shows the same box (36 px here), and drops it for another box."""
    from pages._common import PENDING_CLICK
    from usegan.screencrop import CropBox

    at, before = _small_lesion_case(app, environment)
    key = f"review_frame_{before.case_id}_strain"
    at.session_state[PENDING_CLICK] = ("review", key, (before.case_id, "strain", before.bmode_sha,
                                                       CropBox(0, 0, box_side, box_side)))  # fmt: skip
    at.run()
    assert not at.exception and PENDING_CLICK not in at.session_state
    with _store(environment) as s:
        after = s.get_case(before.case_id)
    recropped = box_side == 36  # the box this page shows for the 12 px lesion (test above)
    assert (after.bmode_sha != before.bmode_sha) is recropped
    assert any("re-cropped to the framed box" in m.value for m in at.success) is recropped


def test_a_length_typed_then_calibrate_clicked_calibrates_with_that_length(app, environment):
    """The browser sends a typed number with the click that follows it, after the button's arguments were fixed:
    the click must still count, with the typed length (a browser test found this)."""
    from usegan.services.signing import marks_keys
    from usegan.ui.roi_canvas import Marks, Segment

    case_id = _new_case(app)
    at = _open(app, case_id)
    with _store(environment) as s:
        sha = s.get_case(case_id).bmode_sha
    state_key, revision, _ = marks_keys("review", case_id, "strain", sha)
    at.session_state[state_key] = Marks(lines={"calibration": Segment((10.0, 80.0), (50.0, 80.0))})  # 40 px
    at.session_state[revision] = 1
    at.run()
    at.number_input(key="review_known_mm").set_value(20.0)
    at.button(key="review_calibrate").click().run()  # one run: the new length and the click together
    assert not at.exception
    with _store(environment) as s:
        spacing = s.get_case(case_id).pixel_spacing_mm
    assert spacing == pytest.approx((0.5, 0.5)), spacing  # 20 mm over 40 px


def test_a_conclusion_the_page_assigned_is_sent_again_if_its_run_was_stopped_before_the_widget(app, environment):
    """Streamlit sends a page-assigned widget value only in the run that assigned it; a run stopped between the
    assignment and the widget (the canvas's late rerun) left the browser showing an empty conclusion after Reload
    while the server held the signed text (browser suite). Until the widget is built, the value is sent again."""
    from pages._common import ASSIGNED_VALUES
    from usegan.services.signing import form_keys

    case_id = _new_case(app)
    at = _open(app, case_id)
    score_key, conclusion_key = form_keys("review", case_id, "strain")
    assert at.text_area(key=conclusion_key).proto.set_value  # assigned on the first run: sent with the widget
    at.run()
    assert not at.text_area(key=conclusion_key).proto.set_value  # a plain rerun sends nothing
    at.session_state[ASSIGNED_VALUES] = {conclusion_key, score_key}  # what a run stopped before the widgets leaves
    at.run()
    assert at.text_area(key=conclusion_key).proto.set_value and at.radio(key=score_key).proto.set_value
    assert not at.session_state[ASSIGNED_VALUES]  # built, so not sent again
    at.run()
    assert not at.text_area(key=conclusion_key).proto.set_value
