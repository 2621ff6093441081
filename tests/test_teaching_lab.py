"""The teaching lab: lesion types keep to what they can be (no stiff "cyst"), the quiz grades the true or the
virtual elastogram, SWE and ROI exercises, the session tally, and (AppTest) Check works after Next."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from tests.app_fixtures import USERS, app_session, make_environment
from tests.research_fixtures import ORIGINAL_NAME, PATIENT_ID, research_archive
from tests.store_fixtures import fast_hasher_fixture, store_fixture  # noqa: F401 (pytest fixtures)
from usegan.services import teaching
from usegan.vocab import LesionType, Mode

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def test_a_cyst_can_only_be_fluid_soft_so_its_truth_never_contradicts_itself():
    allowed = teaching.lab_range(LesionType.CYST)
    lo, hi, _ = allowed.stiffness_kpa
    assert hi <= 4.0 and set(allowed.shapes) == {"round", "oval"}
    for seed in (0, 1):
        for kpa in (lo, hi):
            for size in allowed.size_mm[:2]:
                case = teaching.lab_case(LesionType.CYST, size, 16.0, kpa, "round", seed, size=96)
                assert case.labels["tsukuba"] == 1 and case.labels["bgr"] and case.labels["emax_kpa"] < 10
    with pytest.raises(ValueError, match=r"a cyst here is 1.5-4 kPa \(fluid"):
        teaching.lab_case(LesionType.CYST, 10.0, 16.0, 124.0, "round", 0)  # the "cyst at stiffness x4"
    with pytest.raises(ValueError, match="round, oval, not 'spiculated'"):
        teaching.lab_case(LesionType.CYST, 10.0, 16.0, 2.0, "spiculated", 0)


@pytest.mark.parametrize("lesion_type", [LesionType.MALIGNANT, LesionType.ISO_STIFF])
def test_a_carcinoma_is_never_as_soft_as_its_gland(lesion_type):
    for seed in (0, 3):  # seed 3 draws a stiff gland: the lower bound follows it
        allowed = teaching.lab_range(lesion_type, seed)
        assert allowed.stiffness_kpa[0] >= 3.5 * teaching.lab_gland_kpa(lesion_type, seed) - 0.1
        case = teaching.lab_case(lesion_type, allowed.size_mm[2], 16.0, allowed.stiffness_kpa[0], "round", seed, 96)
        assert case.labels["tsukuba"] >= 2 and case.labels["emax_kpa"] >= 70
        with pytest.raises(ValueError, match="kPa"):
            teaching.lab_case(lesion_type, 10.0, 16.0, allowed.stiffness_kpa[0] - 5, "round", seed)


def test_a_uniform_fibroadenoma_stays_about_as_soft_as_its_gland():
    seed = next(s for s in range(20) if teaching.teaching_params("fibroadenoma", seed=s).pattern == "uniform")
    gland = teaching.lab_gland_kpa(LesionType.FIBROADENOMA, seed)
    lo, hi, _ = teaching.lab_range(LesionType.FIBROADENOMA, seed).stiffness_kpa
    assert lo == pytest.approx(0.85 * gland, abs=0.1) and hi == pytest.approx(1.25 * gland, abs=0.1)


class PaintModel:
    """A stand-in elastographer that paints one colour-map index everywhere (what the virtual image shows)."""

    def __init__(self, mode: str, index: int):
        from usegan.colormaps import colormap_for

        self.mode, self.colour = mode, colormap_for(mode).lut[index].astype(np.uint8)

    def generate(self, bmode):
        from types import SimpleNamespace

        rgb = np.broadcast_to(self.colour, (*bmode.shape[:2], 3)).copy()
        scale = teaching.truth_scale(self.mode)
        return SimpleNamespace(rgb=rgb, model_version=f"paint-{self.mode}", colour_scale=scale)


def hard_lesion_lab():
    case = teaching.lab_case(LesionType.MALIGNANT, 10.0, 16.0, 150.0, "round", 0, size=96)
    soft = {Mode.STRAIN: PaintModel(Mode.STRAIN, 230), Mode.SWE: PaintModel(Mode.SWE, 10)}  # a model that fails
    return teaching.run_lab(case, soft)


def test_quiz_grades_the_truth_or_the_virtual_image_and_names_the_models_failure():
    lab = hard_lesion_lab()
    truth = lab.case.labels["tsukuba"]
    assert truth == 4
    shown = teaching.virtual_reading(lab, Mode.STRAIN).score
    assert shown is not None and shown != truth  # the painted "model" calls a carcinoma soft
    on_truth = teaching.grade_tsukuba(truth, lab, teaching.TRUTH)
    assert on_truth.correct and f"virtual image reads Tsukuba {shown}" in on_truth.text and "failure" in on_truth.text
    on_virtual = teaching.grade_tsukuba(shown, lab, teaching.VIRTUAL)
    assert on_virtual.correct and not teaching.grade_tsukuba(truth, lab, teaching.VIRTUAL).correct


def test_swe_exercise_grades_an_emax_estimate_in_kpa():
    lab = hard_lesion_lab()
    emax = lab.case.labels["emax_kpa"]
    assert teaching.grade_emax(emax * 1.1, lab).correct and "suspicious" in teaching.grade_emax(emax, lab).text
    assert not teaching.grade_emax(20.0, lab).correct
    virtual = teaching.virtual_reading(lab, Mode.SWE).figures["emax_kpa"]
    assert virtual < 30 and teaching.grade_emax(virtual, lab, teaching.VIRTUAL).correct
    with pytest.raises(ValueError, match=">= 0 kPa"):
        teaching.grade_emax(-5.0, lab)


def test_roi_exercise_grades_by_overlap_with_the_true_lesion():
    case = hard_lesion_lab().case
    assert teaching.grade_roi(case.mask, case).correct
    box = np.zeros_like(case.mask)
    box[10:80, 10:80] = True
    graded = teaching.grade_roi(box, case)
    assert not graded.correct and "Too large" in graded.text
    assert not teaching.grade_roi(None, case).correct


def test_tally_counts_each_case_once():
    tally = teaching.Tally().record("quiz", 1, True).record("quiz", 1, False).record("quiz", 2, False)
    tally = tally.record("swe", 7, True)
    assert tally.counts == {"quiz": (1, 2), "swe": (1, 1)} and tally.total == (2, 3)


# --- the page ----------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def environment(tmp_path_factory):
    from usegan.store import Store

    env = make_environment(tmp_path_factory.mktemp("teaching-env"), n_samples=1)
    data = Path(env["USEGAN_DATA_DIR"])
    with Store(data / "usegan.duckdb", data / "images") as store:
        env["cases"] = ",".join(research_archive(store, reader="doc", second_reader="admin"))
    return env


def open_page(environment, monkeypatch, user: str = "student") -> AppTest:
    for key, value in environment.items():
        if key.startswith("USEGAN_"):
            monkeypatch.setenv(key, value)
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["auth_user"] = app_session(user)  # a real server-side session, as the sign-in gate checks
    at.run()
    return at if USERS[user] == "viewer" else at.switch_page("pages/teaching.py").run()  # a viewer lands there


@pytest.fixture
def page(environment, monkeypatch):
    return open_page(environment, monkeypatch)


def captions(at: AppTest) -> list[str]:
    return [c for element in at.get("image") for c in element.captions]


def test_page_sliders_follow_the_lesion_type(page):
    page.selectbox(key="teaching_type").set_value(LesionType.CYST).run()
    slider = page.slider(key="teaching_kpa_cyst_0")
    assert (slider.min, slider.max) == (1.5, 4.0) and not page.exception
    assert page.selectbox(key="teaching_shape_cyst").options == ["round", "oval"]
    slider.set_value(slider.max).run()
    truth = next(m.value for m in page.markdown if m.value.startswith("**Truth**"))
    assert "Tsukuba **1**" in truth
    assert {"TRUE STRAIN", "VIRTUAL STRAIN - model tiny-strain-test", "TRUE SHEAR-WAVE"} <= set(captions(page))
    bars = [c for c in page.get("plotly_chart")]
    assert len(bars) >= 4  # a colour bar under every elastogram


def test_quiz_check_works_after_next_and_the_tally_counts(page):
    page.radio(key="teaching_answer_1_truth").set_value(3).run()
    page.button(key="teaching_check").click().run()
    first = [*page.success, *page.warning]
    assert len(first) == 1 and "Tsukuba" in first[0].value
    page.button(key="teaching_quiz_next").click().run()
    radio = page.radio(key="teaching_answer_2_truth")
    assert radio.value is None and page.button(key="teaching_check").disabled  # a blank answer for the new case
    radio.set_value(2).run()
    assert not page.button(key="teaching_check").disabled
    page.button(key="teaching_check").click().run()
    assert len([*page.success, *page.warning]) == 1
    assert page.metric[0].value.endswith("/ 2") and page.metric[1].value.endswith("/ 2")


def test_an_interrupted_check_is_graded_by_the_next_run_for_its_own_case_only(page):
    """The ROI canvas's reruns can stop the run a click started before it reaches the button: the click, kept by
    the button's callback, is carried out by the next run if the quiz case is still the one clicked on."""
    from pages._common import PENDING_CLICK

    page.radio(key="teaching_answer_1_truth").set_value(3).run()
    page.session_state[PENDING_CLICK] = ("teaching", "teaching_check", (2, teaching.TRUTH))  # another case
    page.run()
    assert PENDING_CLICK not in page.session_state and not [*page.success, *page.warning]  # dropped, not graded
    page.session_state[PENDING_CLICK] = ("teaching", "teaching_check", (1, teaching.TRUTH))
    page.run()
    assert PENDING_CLICK not in page.session_state
    assert len([*page.success, *page.warning]) == 1 and page.metric[0].value.endswith("/ 1")


def test_quiz_on_the_virtual_image_reveals_the_truth_beside_it(page):
    page.segmented_control(key="teaching_quiz_against").set_value(teaching.VIRTUAL).run()
    assert "VIRTUAL strain - model tiny-strain-test (white outline: the lesion)" in captions(page)
    assert "TRUE strain (white outline: the lesion)" not in captions(page)  # hidden until checked
    page.radio(key="teaching_answer_1_virtual").set_value(5).run()
    page.button(key="teaching_check").click().run()
    assert "TRUE strain (white outline: the lesion)" in captions(page)
    text = [*page.success, *page.warning][0].value
    assert "virtual image reads Tsukuba" in text and "the truth is" in text


def test_presentation_mode_and_the_swe_exercise(page):
    page.toggle(key="teaching_present").set_value(True).run()
    assert not page.exception and any("max-width: 100%" in m.value for m in page.markdown)
    page.number_input(key="teaching_swe_estimate_101_truth").set_value(90.0).run()
    # a new estimate typed and Check clicked at once reach the server together: graded, with the new estimate
    page.number_input(key="teaching_swe_estimate_101_truth").set_value(120.0)
    page.button(key="teaching_swe_check").click().run()
    graded = [m.value for m in [*page.success, *page.warning]]
    assert len(graded) == 1 and "Emax" in graded[0] and "you said 120." in graded[0]


# --- archive cases flagged for teaching --------------------------------------------------------------------------
def test_only_signed_cases_are_flagged_and_students_see_a_pseudonym(store):
    from usegan.services import teaching_cases
    from usegan.store import AuthError

    signed = research_archive(store)[0]
    draft = store.create_case(np.zeros((40, 48), np.uint8), organ="breast", created_by="dr_a")
    store.add_generation(draft, np.full((40, 48, 3), (0, 0, 200), np.uint8), model_version="v", mode="strain",
                         checkpoint_sha256="0" * 64, colour_scale={}, ms=1.0, created_by="dr_a")  # fmt: skip
    with pytest.raises(ValueError, match="no signed reading"):
        store.flag_for_teaching(draft, "strain", "dr_a")
    store.add_user("pupil", "quiet-lantern-71", "viewer", created_by="t")  # policy: not the name
    with pytest.raises(AuthError, match="is a viewer; only admin, clinician users may do this"):
        store.flag_for_teaching(signed, "strain", "pupil")
    teaching_id = store.flag_for_teaching(signed, "strain", "dr_a")
    assert teaching_id.startswith("T-") and store.flag_for_teaching(signed, "strain", "dr_b") == teaching_id
    listed = teaching_cases.list_cases(store)
    assert listed.columns.tolist() == ["teaching_id", "mode", "organ", "lesion_type"]  # no answer, no case id
    assert signed not in store.teaching_cases().to_csv() and PATIENT_ID not in store.teaching_cases().to_csv()
    case = teaching_cases.open_case(store, teaching_id)
    assert case.confirmed_score == 5 and case.virtual is not None and case.real is not None
    assert teaching_cases.grade(5, case).correct and not teaching_cases.grade(3, case).correct
    assert case.scale.name == "Tsukuba 1-5" and case.scale.scores == (1, 2, 3, 4, 5)
    # a student answers a case on the scale it was signed on: breast SWE is a class of 1-2, not Tsukuba 1-5
    swe = dataclasses.replace(case, mode="swe")
    assert swe.scale.name == "breast SWE class 1-2" and swe.scale.scores == (1, 2)
    assert signed not in teaching_cases.candidates(store)["case_id"].tolist()
    store.unflag_teaching(teaching_id, "dr_a")
    assert teaching_cases.list_cases(store).empty


def test_a_clinician_flags_a_case_and_a_student_scores_it_without_identifiers(environment, monkeypatch):
    cases = environment["cases"].split(",")
    doc = open_page(environment, monkeypatch, "doc")
    picker = doc.selectbox(key="teaching_flag_pick")
    position = next(i for i, label in enumerate(picker.options) if cases[1] in label)  # options: a RangeIndex
    picker.set_value(position).run()
    doc.button(key="teaching_flag").click().run()
    assert not doc.exception and any("students see it as T-" in s.value for s in doc.success)

    student = open_page(environment, monkeypatch)
    assert "teaching_flag" not in [b.key for b in student.button]  # a viewer cannot flag
    archive = student.selectbox(key="teaching_archive_case")
    teaching_id = archive.value
    assert teaching_id.startswith("T-")
    text = "\n".join(str(node.proto) for node in student.get("image") + student.get("markdown"))
    text += "\n".join(str(s.options) for s in student.selectbox)
    for secret in (cases[1], PATIENT_ID, ORIGINAL_NAME, "Smith"):
        assert secret not in text
    assert "B-mode (yellow: the lesion ROI of the signed reading)" in captions(student)
    assert student.radio(key=f"teaching_archive_answer_{teaching_id}").options == ["1", "2", "3", "4", "5"]
    student.radio(key=f"teaching_archive_answer_{teaching_id}").set_value(4).run()
    student.button(key="teaching_archive_check").click().run()
    assert any("Correct: the signed reading is 4" in s.value for s in student.success)
    assert student.metric[4].value == "1 / 1"
