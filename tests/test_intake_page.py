"""The New-case page's intake logic through ``streamlit.testing.v1.AppTest`` (no browser): the crop preview follows
the crop controls before anything is created; an existing case is re-cropped or withdrawn (kept, audited, off the
worklist); a withdrawn case is refused everywhere a reading would write to it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from pages._common import FRAME_SUGGESTIONS
from tests.app_fixtures import app_session, make_environment
from tests.intake_fixtures import CAPTURE_BOX, band_capture, png_bytes
from usegan.intake.pipeline import Intake
from usegan.scoring.confidence import framing
from usegan.screencrop import CropBox
from usegan.store import CaseWithdrawnError

APP = str(Path(__file__).resolve().parent.parent / "app.py")
FIX, REAL = "Re-crop or withdraw a case", "With its real elastogram"  # the New-case page's tabs
WRONG_CROP = (80, 52, 398, 188)  # what the old detector made of the capture: the lesion cut in half


@pytest.fixture(scope="module")
def environment(tmp_path_factory):
    return make_environment(tmp_path_factory.mktemp("intake-page-env"), n_samples=1)


@pytest.fixture
def store(environment, monkeypatch):
    for key, value in environment.items():
        monkeypatch.setenv(key, value)
    from usegan.web.process import get_store

    return get_store(maintain=False)  # the store the app's pages use (one writer per process)


@pytest.fixture
def new_case_page(store):
    def start(user: str = "doc", review_case_id: str | None = None, tab: str | None = None) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=60)
        at.session_state["auth_user"] = app_session(user)
        if review_case_id:
            at.session_state["review_case_id"] = review_case_id  # the case last opened on the review page
        if tab:
            at.session_state["new_case_tab"] = tab  # the tab a click opens (only the open tab runs)
        at.run()
        return at.switch_page("pages/new_case.py").run()

    return start


def captions(at: AppTest) -> list[str]:
    return [caption for image in at.image for caption in image.captions]


def crop_caption(at: AppTest) -> str:
    (caption,) = [c for c in captions(at) if "orange = image area kept" in c]
    return caption


def capture_case(store, crop: tuple[int, int, int, int] = WRONG_CROP) -> str:
    intake = Intake(store)
    image = intake.read(png_bytes(band_capture()[0]), "capture.png")
    return intake.create_case(image, user="doc", crop=CropBox(*crop))


def test_the_crop_preview_follows_the_controls_before_the_case_is_created(new_case_page, store):
    at = new_case_page()
    at.file_uploader(key="new_case_upload").set_value(("capture.png", png_bytes(band_capture()[0]), "image/png")).run()
    x, y, w, h = CAPTURE_BOX
    assert not at.exception and f"x{x} y{y} {w}x{h} px" in crop_caption(at)  # the detected 400x400 image area
    keys = {n.key.rsplit("_", 1)[1]: n.key for n in at.number_input if n.key.startswith("new_case_crop_")}
    before = store.count_cases()
    at.number_input(key=keys["x"]).set_value(100).run()
    at.number_input(key=keys["h"]).set_value(300).run()
    assert "x100 y52 400x300 px" in crop_caption(at)  # redrawn at once, no form submitted
    assert store.count_cases() == before  # nothing created yet
    at.number_input(key=keys["w"]).set_value(600).run()  # 100 + 600 > 640: said, not drawn, not created
    assert any("640" in w.value for w in at.warning) and not any("orange" in c for c in captions(at))
    at.number_input(key=keys["w"]).set_value(400).run()
    at.button(key="FormSubmitter:new_case_form-Create case and review").click().run()
    assert at.title[0].value.startswith("Case C-")
    case = store.get_case(at.title[0].value.split()[-1])
    assert case.crop == [100, 52, 400, 300] and (case.height, case.width) == (300, 400)


def test_an_existing_case_is_recropped_from_its_original(new_case_page, store):
    case_id = capture_case(store)
    at = new_case_page(tab=FIX)
    at.selectbox(key="new_case_fix_case").select(case_id).run()
    assert "x80 y52 398x188 px" in crop_caption(at)
    prefix = f"new_case_fix_{case_id}_0_"
    at.number_input(key=prefix + "w").set_value(400).run()
    at.number_input(key=prefix + "h").set_value(400).run()
    assert "x80 y52 400x400 px" in crop_caption(at) and store.get_case(case_id).crop == list(WRONG_CROP)
    at.text_input(key=f"new_case_recrop_reason_{case_id}").input("lesion was cut in half")
    at.button(key=f"FormSubmitter:new_case_recrop_{case_id}-Re-crop case").click().run()
    assert not at.exception and any("re-cropped" in s.value for s in at.success)
    case = store.get_case(case_id)
    assert case.crop == list(CAPTURE_BOX) and (case.height, case.width) == (400, 400)
    assert len(case.previous_bmodes) == 1 and case.original_sha is not None
    audit = store.audit_log(entity_id=case_id, limit=1).iloc[0]
    assert audit["action"] == "case.recrop" and "lesion was cut in half" in audit["after"]
    assert "x80 y52 400x400 px" in crop_caption(at)  # the controls now start from the stored crop
    assert at.text_input(key=f"new_case_recrop_reason_{case_id}").value == ""  # made: the form starts empty again


def test_a_cleared_reason_is_sent_again_when_the_run_that_cleared_it_was_stopped(new_case_page, store):
    """The emptied reason reaches the browser only with the widget; a run stopped between clearing it and building
    the field (a rerun request on a loaded machine) must not leave the old reason shown (pages._common.keyed_widget)."""
    from pages._common import ASSIGNED_VALUES

    case_id = capture_case(store)
    at = new_case_page(tab=FIX)
    at.selectbox(key="new_case_fix_case").select(case_id).run()
    key = f"new_case_withdraw_reason_{case_id}"
    at.run()
    assert not at.text_input(key=key).proto.set_value  # a plain rerun sends nothing
    at.session_state[key] = ""
    at.session_state[ASSIGNED_VALUES] = {key}  # what a run stopped after the clearing and before the field leaves
    at.run()
    assert at.text_input(key=key).proto.set_value and at.text_input(key=key).value == ""
    assert not at.session_state[ASSIGNED_VALUES]


def test_a_lesion_small_in_the_frame_gets_a_box_around_it_suggested(new_case_page, store):
    case_id = capture_case(store)  # 398 x 188 px, cut from the capture at (80, 52)
    mask = np.zeros((188, 398), bool)
    mask[80:100, 200:220] = True  # a 20 px lesion in a 188 px high frame, as the review page measured it
    at = new_case_page(tab=FIX)
    at.session_state[FRAME_SUGGESTIONS] = {case_id: (store.get_case(case_id).bmode_sha, framing(mask))}
    at.selectbox(key="new_case_fix_case").select(case_id).run()
    assert any("spans 11% of the frame" in c.value for c in at.caption)
    assert "x80 y52 398x188 px" in crop_caption(at)  # nothing moves until the reader asks
    at.toggle(key=f"new_case_fix_{case_id}_0_framed").set_value(True).run()
    # the lesion's centre in the capture is (80 + 210, 52 + 90): a 60 px square around it
    assert not at.exception and "x260 y112 60x60 px" in crop_caption(at)
    assert store.get_case(case_id).crop == list(WRONG_CROP)  # a suggestion: re-cropped only with a reason


def test_a_suggestion_measured_on_an_earlier_image_is_not_offered_and_a_stale_recrop_is_refused(new_case_page, store):
    from usegan.intake.pipeline import Intake
    from usegan.screencrop import CropBox

    case_id = capture_case(store)
    earlier = store.get_case(case_id).bmode_sha
    mask = np.zeros((188, 398), bool)
    mask[80:100, 200:220] = True
    at = new_case_page(tab=FIX)
    at.session_state[FRAME_SUGGESTIONS] = {case_id: (earlier, framing(mask))}
    at.selectbox(key="new_case_fix_case").select(case_id).run()
    assert any("spans 11% of the frame" in c.value for c in at.caption)
    # another user re-crops the case while this page shows it
    Intake(store).recrop(case_id, CropBox(*CAPTURE_BOX), user="other", reason="their crop")
    at.text_input(key=f"new_case_recrop_reason_{case_id}").input("mine")
    at.button(key=f"FormSubmitter:new_case_recrop_{case_id}-Re-crop case").click().run()
    assert any("since this page showed it" in e.value for e in at.error)
    assert store.get_case(case_id).crop == list(CAPTURE_BOX)  # theirs stands
    # kept for another try (AppTest does not clear a form's fields as the browser does: test_browser_intake checks
    # that the browser keeps a refused reason)
    assert at.text_input(key=f"new_case_recrop_reason_{case_id}").value == "mine"
    # the lesion box was measured on the earlier image: not offered on the new one (it would frame another area)
    assert not any("of the frame" in c.value for c in at.caption)
    assert not [t for t in at.toggle if t.key.endswith("_framed")]


def test_a_case_is_withdrawn_with_a_reason_kept_and_off_the_worklist(new_case_page, store):
    case_id = capture_case(store)
    at = new_case_page(tab=FIX)
    at.selectbox(key="new_case_fix_case").select(case_id).run()
    withdraw = f"FormSubmitter:new_case_withdraw_{case_id}-Withdraw case"
    at.button(key=withdraw).click().run()  # no reason
    assert any("reason is required" in e.value for e in at.error) and not store.get_case(case_id).withdrawn
    at.text_input(key=f"new_case_withdraw_reason_{case_id}").input("no")
    at.button(key=withdraw).click().run()  # too short: refused, the typed text kept to be corrected
    assert at.error and at.text_input(key=f"new_case_withdraw_reason_{case_id}").value == "no"
    assert not store.get_case(case_id).withdrawn
    at.text_input(key=f"new_case_withdraw_reason_{case_id}").input("wrong patient")
    at.button(key=withdraw).click().run()
    assert any("withdrawn" in s.value for s in at.success)
    case = store.get_case(case_id)
    assert case.withdrawn and case.withdraw_reason == "wrong patient" and case.bmode() is not None  # kept
    assert case_id not in set(store.worklist(limit=1000)["case_id"])
    assert case_id not in at.selectbox(key="new_case_fix_case").options
    assert case_id in set(at.dataframe[-1].value["case_id"])  # listed as withdrawn, with the reason
    audit = store.audit_log(entity_id=case_id, limit=1).iloc[0]
    assert audit["action"] == "case.withdraw" and "wrong patient" in audit["after"]

    at.session_state["review_case_id"] = case_id  # opened from an old link: refused, saying why
    at.switch_page("pages/review.py").run()
    assert any("withdrawn by doc" in e.value and "wrong patient" in e.value for e in at.error)
    with pytest.raises(CaseWithdrawnError):
        store.save_draft(case_id, "doc", {}, None, "", expected_version=0)


def test_a_reason_kept_after_a_refusal_is_not_offered_for_another_case(new_case_page, store):
    first, second = capture_case(store), capture_case(store)
    at = new_case_page(tab=FIX)
    at.selectbox(key="new_case_fix_case").select(first).run()
    at.text_input(key=f"new_case_withdraw_reason_{first}").input("no")
    at.button(key=f"FormSubmitter:new_case_withdraw_{first}-Withdraw case").click().run()
    assert at.error and at.text_input(key=f"new_case_withdraw_reason_{first}").value == "no"
    at.selectbox(key="new_case_fix_case").select(second).run()
    assert at.text_input(key=f"new_case_withdraw_reason_{second}").value == ""
    at.button(key=f"FormSubmitter:new_case_withdraw_{second}-Withdraw case").click().run()
    assert not store.get_case(second).withdrawn and not store.get_case(first).withdrawn


def test_a_case_with_a_draft_reading_is_withdrawn_but_not_recropped(new_case_page, store):
    case_id = capture_case(store)
    store.save_draft(case_id, "doc", {}, None, "a first look", expected_version=0)
    at = new_case_page(tab=FIX)
    at.selectbox(key="new_case_fix_case").select(case_id).run()
    assert at.button(key=f"FormSubmitter:new_case_recrop_{case_id}-Re-crop case").disabled
    assert any("draft reading" in c.value for c in at.caption)
    at.text_input(key=f"new_case_withdraw_reason_{case_id}").input("duplicate of another case")
    at.button(key=f"FormSubmitter:new_case_withdraw_{case_id}-Withdraw case").click().run()
    assert store.get_case(case_id).withdrawn
    with pytest.raises(CaseWithdrawnError):  # the draft is not signed after the withdrawal
        store.sign(case_id, "doc", expected_version=1)


def test_the_case_last_opened_in_review_is_preselected(new_case_page, store):
    case_id = capture_case(store, CAPTURE_BOX)
    at = new_case_page(review_case_id=case_id, tab=FIX)
    assert at.selectbox(key="new_case_fix_case").value == case_id
    assert "x80 y52 400x400 px" in crop_caption(at)


# --- a case with the scanner's real elastogram ----------------------------------------------------------------
def dual_capture_with_bar() -> bytes:
    """A dual-display capture: B-mode left, a strain elastogram right in a scanner's blue-soft map (the product's
    reversed), and that scanner's colour bar at the far right (soft = low strain value at the bottom)."""
    from tests.test_screencrop import speckle_image
    from usegan.intake.scanner_maps import SCANNER_MAPS

    scanner = SCANNER_MAPS["Strain: blue = soft, red = hard"]
    screen = np.full((480, 800, 3), 8, np.uint8)
    bmode, _ = speckle_image(300, 340, np.random.default_rng(3))
    screen[90:390, 20:360] = bmode[..., None]
    strain = np.linspace(0, 1, 340)[None, :].repeat(300, axis=0)
    screen[90:390, 400:740] = scanner.lut[np.rint(strain * 255).astype(int)]
    screen[120:376, 770:782] = scanner.lut[::-1][:, None, :]  # low value at the bottom
    return png_bytes(screen)


def test_a_real_elastogram_pair_is_previewed_in_product_colours_and_becomes_a_case(new_case_page, store):
    at = new_case_page(tab=REAL)
    two = dict(bmode=png_bytes(band_capture()[0]), elasto=png_bytes(band_capture(seed=5)[0]))
    at.file_uploader(key="new_case_real_bmode").set_value(("b.png", two["bmode"], "image/png")).run()
    at.file_uploader(key="new_case_real_elasto").set_value(("e.png", two["elasto"], "image/png")).run()
    at.button(key="FormSubmitter:new_case_real_form-Create case with its real elastogram").click().run()
    assert any("match no colour" in e.value for e in at.error)  # a gray image is no elastogram: nothing stored

    at = new_case_page(tab=REAL)
    at.file_uploader(key="new_case_real_bmode").set_value(("dual.png", dual_capture_with_bar(), "image/png")).run()
    at.selectbox(key="new_case_real_map").select("Strain: blue = soft, red = hard").run()
    real = [c for c in captions(at) if c.startswith("REAL strain elastogram")]
    assert real and "0% of its pixels on no colour" in real[0], captions(at)
    before = store.count_cases()
    at.text_input(key="new_case_real_patient").input("MRN-REAL-1")
    at.button(key="FormSubmitter:new_case_real_form-Create case with its real elastogram").click().run()
    assert at.title[0].value.startswith("Case C-") and store.count_cases() == before + 1
    case_id = at.title[0].value.split()[-1]
    (stored,) = store.real_elastograms(case_id)
    assert stored["mode"] == "strain" and "Strain: blue = soft" in stored["source"]
    assert store.get_case(case_id).patient_id.startswith("P-")  # the typed id, pseudonymised


def test_the_scanner_map_is_built_from_a_crop_of_its_colour_bar(new_case_page, store):
    at = new_case_page(tab=REAL)
    at.file_uploader(key="new_case_real_bmode").set_value(("dual.png", dual_capture_with_bar(), "image/png")).run()
    at.toggle(key="new_case_real_from_bar").set_value(True).run()
    for name, value in dict(x=770, y=120, w=12, h=256).items():
        at.number_input(key=f"new_case_real_bar_{name}").set_value(value).run()
    assert any("orange = colour bar: x770 y120 12x256 px" in c for c in captions(at))
    real = [c for c in captions(at) if c.startswith("REAL strain elastogram")]
    assert real and "0% of its pixels on no colour" in real[0]  # the bar's map reads every elastogram pixel
    at.number_input(key="new_case_real_bar_x").set_value(100).run()  # speckle, not a bar: said, no preview
    assert any("colour bar" in w.value for w in at.warning)
    assert not [c for c in captions(at) if c.startswith("REAL")]


def test_only_the_open_tab_runs_so_the_page_holds_one_file_uploader(new_case_page):
    at = new_case_page()
    assert [u.key for u in at.file_uploader] == ["new_case_upload"]
    assert at.button(key="new_case_open_sample")  # the light sample tab is always there
    at = new_case_page(tab=REAL)
    assert [u.key for u in at.file_uploader] == ["new_case_real_bmode", "new_case_real_elasto"]
    at = new_case_page(tab=FIX)
    assert not at.file_uploader and at.selectbox(key="new_case_fix_case")
