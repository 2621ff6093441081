"""Each page's logic through ``streamlit.testing.v1.AppTest`` (no browser): the login gate, roles, the review
flow from a bundled sample to a signed review, the worklist, audit, teaching and models pages."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.app_fixtures import app_session, make_environment

APP = str(Path(__file__).resolve().parent.parent / "app.py")


@pytest.fixture(scope="module")
def environment(tmp_path_factory):
    return make_environment(tmp_path_factory.mktemp("app-env"), n_samples=1)


@pytest.fixture
def app(environment, monkeypatch):
    for key, value in environment.items():
        monkeypatch.setenv(key, value)

    def start(user: str | None = None, role: str | None = None) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=60)
        if user:
            at.session_state["auth_user"] = app_session(user)
        return at.run()

    return start


def titles(at: AppTest) -> list[str]:
    return [t.value for t in at.title]


def test_signed_out_browser_sees_only_the_login_page(app):
    at = app()
    assert titles(at) == ["USE-GAN virtual elastography"] and not at.exception
    with pytest.raises(ValueError, match="Known pages: .*login.py'\\]"):  # only the login page is registered
        at.switch_page("pages/worklist.py")


def test_the_login_page_links_to_the_guarded_form_keeping_the_case_asked_for(app):
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["case"] = "abc123"
    at.run()
    links = [h.proto.body for h in at.get("html")]
    assert any('href="/_usegan/signin?next=%2F%3Fcase%3Dabc123"' in body for body in links), links


def test_a_forged_or_ended_session_shows_only_the_login_page(app):
    at = app("doc", "clinician")
    assert "Worklist" in titles(at)
    from usegan.web.process import get_store

    get_store().end_user_sessions("doc", by="doc")  # signed out in another tab
    at.run()
    assert titles(at) == ["USE-GAN virtual elastography"] and "auth_user" not in at.session_state
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["auth_user"] = {"username": "admin", "role": "admin", "sid": "forged"}
    at.run()
    assert titles(at) == ["USE-GAN virtual elastography"]


def test_a_viewer_cannot_open_the_clinical_worklist(app):
    at = app("student", "viewer")
    assert titles(at) == ["Teaching lab"]
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/worklist.py")


def test_review_flow_from_a_sample_to_a_signed_review(app, environment):
    at = app("doc", "clinician")
    at.switch_page("pages/new_case.py").run()
    at.button(key="new_case_open_sample").click().run()
    case_id = at.session_state["review_case_id"]
    assert titles(at) == [f"Case {case_id}"] and not at.exception
    assert any("VIRTUAL STRAIN elastogram - model tiny-strain-test" in m.value for m in at.markdown)
    assert at.metric[0].value == "-"  # no ROI yet: no proposal
    assert any("draw a lesion ROI" in m.value for m in at.markdown)
    assert any("SSIM virtual vs real" in c.value for c in at.caption)  # the sample's true elastogram is attached

    # ROIs saved with a draft come back as the starting ROIs (the canvas itself needs a browser: test_browser.py).
    from usegan.scoring import Rect
    from usegan.services.service import open_case
    from usegan.store import Store

    rois = {"lesion": {"type": "rect", "x": 30, "y": 30, "w": 30, "h": 30}}
    with Store(
        Path(environment["USEGAN_DATA_DIR"]) / "usegan.duckdb", Path(environment["USEGAN_DATA_DIR"]) / "images"
    ) as s:
        s.save_draft(case_id, "doc", rois, None, "", 0)
    at = app("doc", "clinician")
    at.session_state["review_case_id"] = case_id
    at.switch_page("pages/review.py").run()
    assert at.metric[0].value == "5"  # the fixture model paints everything hard: Tsukuba 5
    at.radio(key=f"review_score_{case_id}_strain").set_value(4)
    at.button(key="review_template").click().run()
    assert "Tsukuba 4" in at.text_area(key=f"review_conclusion_{case_id}_strain").value
    at.button(key="review_sign").click().run()
    assert not at.exception and any("signed" in s.value for s in at.success)
    with Store(
        Path(environment["USEGAN_DATA_DIR"]) / "usegan.duckdb", Path(environment["USEGAN_DATA_DIR"]) / "images"
    ) as s:
        view = open_case(s, case_id, "strain")
        assert (
            view.review.confirmed_score == 4
            and view.prescore.score == 5
            and view.rois["lesion"] == Rect(30, 30, 30, 30)
        )
    at.run()
    assert at.get("download_button") and at.button(key="review_amend")


def test_review_without_a_case_says_where_to_go(app):
    at = app("doc", "clinician")
    at.switch_page("pages/review.py").run()
    assert "No case is open" in at.info[0].value


def test_worklist_lists_cases_with_counts_and_filters(app):
    at = app("admin", "admin")
    at.switch_page("pages/new_case.py").run()
    at.button(key="new_case_open_sample").click().run()
    at.switch_page("pages/worklist.py").run()
    assert titles(at) == ["Worklist"] and at.metric[0].label == "Total" and int(at.metric[0].value) >= 1
    assert at.session_state["review_case_id"] in at.dataframe[0].value["case_id"].tolist()
    at.text_input(key="worklist_search").input("no-such-case").run()
    assert at.dataframe[0].value.empty


def test_audit_teaching_and_models_pages_render(app):
    at = app("res", "researcher")
    assert titles(at) == ["Research audit"] and not at.exception
    at.switch_page("pages/teaching.py").run()
    assert not at.exception and any("Truth" in m.value for m in at.markdown)
    at = app("admin", "admin")
    at.switch_page("pages/models.py").run()
    assert titles(at) == ["Models"] and any("tiny-strain-test" in m.value for m in at.markdown)
    at.button(key="models_activate_tiny-strain-test").click().run()
    assert not at.exception and any("`active`" in m.value for m in at.markdown)


# --- DICOM: spool -> worklist picker, quarantine for admins, send-back from the review page ----------------------
def settings_of(environment):
    from usegan.settings import get_settings

    return get_settings(environ=environment)


def spool_dicom(environment, name: str | None = None):
    """Write a small breast ultrasound DICOM into the app's spool; returns its dataset."""
    from tests.dicom_factory import make_us_dataset
    from usegan.dicomnet.derived import to_bytes
    from usegan.dicomnet.spool import spool_name, write_atomic

    ds = make_us_dataset(rows=96, columns=128)
    ds.BodyPartExamined = "BREAST"
    write_atomic(settings_of(environment).inbox_dir, name or spool_name(ds.SOPInstanceUID), to_bytes(ds))
    return ds


def case_of(environment, ds) -> str | None:
    from usegan.store import Store

    settings = settings_of(environment)
    with Store(settings.db_path, settings.images_dir) as s:
        return s.find_case_by_sop_uid(str(ds.SOPInstanceUID))


def wait_for_case(environment, ds, timeout_s: float = 90.0) -> str:
    """The case the app's background worker made of ``ds`` (polls: the worker imports on its own timer)."""
    deadline = time.monotonic() + timeout_s
    while (case_id := case_of(environment, ds)) is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert case_id is not None, f"the background worker did not import {ds.SOPInstanceUID} in {timeout_s:.0f} s"
    return case_id


def review_of(app, case_id: str, role: str = "clinician") -> AppTest:
    at = app("doc", role)
    at.session_state["review_case_id"] = case_id
    return at.switch_page("pages/review.py").run()


def test_worklist_picker_offers_cases_imported_from_the_dicom_spool(app, environment):
    ds = spool_dicom(environment)
    at = app("doc", "clinician")
    at.switch_page("pages/worklist.py").run()  # the first page view starts the app's background worker
    case_id = wait_for_case(environment, ds)  # imported by the worker, not by the page
    at.run()
    assert not at.exception
    assert case_id in at.selectbox(key="worklist_open_id").options  # the picker lives in the refreshing fragment
    assert not [e for e in at.expander if "quarantine" in e.label]  # clinicians do not see the quarantine


def test_admin_sees_the_quarantine_and_requeues_a_fixed_file(app, environment):
    from usegan.dicomnet.derived import to_bytes
    from usegan.dicomnet.spool import write_atomic

    settings = settings_of(environment)
    name = "1.2.826.0.1.3680043.99.7.dcm"
    write_atomic(settings.inbox_dir, name, b"not a DICOM file at all")
    at = app("admin", "admin")
    at.switch_page("pages/worklist.py").run()  # starts the background worker, which quarantines the bad file
    deadline = time.monotonic() + 90
    while not (settings.quarantine_dir / name).exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    at.run()
    assert any(e.label.startswith("DICOM quarantine") for e in at.expander) and not at.exception
    table = next(d.value for d in at.dataframe if "reason" in d.value.columns).set_index("file")
    assert "not a readable DICOM file" in table.loc[name, "reason"]
    assert table.loc[name, "quarantined_at"] is not None

    fixed = spool_dicom(environment, name="unused.dcm")  # a good file, moved over the bad one: "fix the cause"
    (settings.quarantine_dir / name).write_bytes(to_bytes(fixed))
    (settings.inbox_dir / "unused.dcm").unlink()
    at.selectbox(key="worklist_quarantine_file").set_value(name)
    at.button(key="worklist_requeue").click().run()
    assert not at.exception and any("back in the spool" in s.value for s in at.success)
    assert (
        not (settings.quarantine_dir / name).exists() and not (settings.quarantine_dir / f"{name}.reason.txt").exists()
    )
    case_id = wait_for_case(environment, fixed)  # the background worker imports it
    at.run()  # the next (timed) run shows it
    assert case_id in at.selectbox(key="worklist_open_id").options


@pytest.fixture
def pacs():
    """A stand-in PACS on 127.0.0.1 accepting Secondary Capture and Encapsulated PDF; keeps what it receives."""
    from pydicom.uid import ExplicitVRLittleEndian
    from pynetdicom import AE, evt

    from usegan.dicomnet import contexts

    received = []

    def on_store(event):
        received.append(event.dataset)
        return 0x0000

    ae = AE(ae_title="PACS")
    for sop_class in (contexts.SECONDARY_CAPTURE_IMAGE_STORAGE, contexts.ENCAPSULATED_PDF_STORAGE):
        ae.add_supported_context(sop_class, ExplicitVRLittleEndian)
    server = ae.start_server(("127.0.0.1", 0), block=False, evt_handlers=[(evt.EVT_C_STORE, on_store)])
    yield server.server_address[1], received
    server.shutdown()


def send_button(at: AppTest):
    return next((b for b in at.button if b.key == "review_send_back"), None)


def test_review_sends_a_dicom_case_back_only_when_a_destination_is_configured(app, environment, pacs, monkeypatch):
    port, received = pacs
    ds = spool_dicom(environment)
    app("doc", "clinician").switch_page("pages/worklist.py").run()  # starts the worker, which imports the spool
    case_id = wait_for_case(environment, ds)
    monkeypatch.delenv("USEGAN_DICOM_DESTINATION", raising=False)
    assert send_button(review_of(app, case_id)) is None  # send-back is off

    monkeypatch.setenv("USEGAN_DICOM_DESTINATION", f"127.0.0.1:{port}:PACS")
    at = review_of(app, case_id)
    assert send_button(at) is not None and not send_button(at).disabled
    send_button(at).click().run()
    assert not at.exception and any("1/1 objects accepted by PACS@127.0.0.1" in s.value for s in at.success)
    (sc,) = received
    assert sc.StudyInstanceUID == ds.StudyInstanceUID and sc.SeriesDescription.startswith("VIRTUAL elastogram")

    from usegan.store import Store

    with Store(settings_of(environment).db_path, settings_of(environment).images_dir) as s:  # the reader's ROI
        lesion = {"lesion": {"type": "rect", "x": 20, "y": 20, "w": 30, "h": 30}}
        s.save_draft(case_id, "doc", lesion, None, "", 0)
    at = review_of(app, case_id)
    at.default_timeout = 300  # signing renders and archives the PDF: slow on a loaded 2-core machine
    at.radio(key=f"review_score_{case_id}_strain").set_value(3)  # sign: the report goes with the next send
    at.text_area(key=f"review_conclusion_{case_id}_strain").input("Tsukuba 3 on the virtual elastogram.").run()
    at.button(key="review_sign").click().run()
    assert any("signed" in m.value for m in at.success), [e.value for e in at.error]
    at.run()  # the signed page archives the PDF report
    send_button(at).click().run()
    assert any("2/2 objects accepted" in s.value and "signed report" in s.value for s in at.success)
    assert [str(d.SOPClassUID) for d in received[1:]] == [str(sc.SOPClassUID), "1.2.840.10008.5.1.4.1.1.104.1"]
    assert received[2].StudyInstanceUID == ds.StudyInstanceUID

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    monkeypatch.setenv("USEGAN_DICOM_DESTINATION", f"127.0.0.1:{closed}:PACS")
    at = review_of(app, case_id)
    send_button(at).click().run()
    assert not at.exception and "Not sent" in at.error[0].value and "no association" in at.error[0].value
    assert len(received) == 3

    monkeypatch.setenv("USEGAN_DICOM_DESTINATION", "pacs-without-port")  # a typo: shown, disabled, explained
    at = review_of(app, case_id)
    assert send_button(at).disabled and any("not usable" in w.value for w in at.warning)

    monkeypatch.setenv("USEGAN_DICOM_DESTINATION", f"127.0.0.1:{port}:PACS")
    at = app("doc", "clinician")
    at.switch_page("pages/new_case.py").run()
    at.button(key="new_case_open_sample").click().run()  # a bundled sample did not come over DICOM
    assert titles(at)[0].startswith("Case ") and send_button(at) is None


def test_audit_compares_model_versions_on_the_same_case(app, environment):
    import numpy as np

    from usegan.colormaps import colormap_for
    from usegan.store import Store

    settings = settings_of(environment)
    lut = colormap_for("strain").lut
    with Store(settings.db_path, settings.images_dir) as s:
        case_id = s.create_case(np.full((40, 48), 90, np.uint8), organ="breast", created_by="doc")
        generations = []
        for version, index in (("audit-old", 30), ("audit-new", 180)):  # uniform hard (Tsukuba 5), soft (1)
            rgb = np.broadcast_to(lut[index].astype(np.uint8), (40, 48, 3)).copy()
            generation_id = s.add_generation(
                case_id, rgb, model_version=version, checkpoint_sha256="0" * 64, mode="strain",
                colour_scale={"vmin": 0, "vmax": 1, "unit": "relative strain"}, ms=1.0, created_by="doc",
            )  # fmt: skip
            generations.append(generation_id)
        lesion = {"lesion": {"type": "rect", "x": 10, "y": 10, "w": 12, "h": 10}}
        # read on the old model's elastogram, whose proposal (Tsukuba 5) was stored when the reader saw it
        shown = s.add_prescore(case_id, generations[0], {"system": "tsukuba", "score": 5}, lesion, created_by="doc")
        review = s.save_draft(
            case_id, "doc", lesion, 5, "hard", expected_version=0, generation_id=generations[0], prescore_id=shown
        )
        s.sign(case_id, "doc", expected_version=review.row_version)
    at = app("res", "researcher")
    assert not at.exception and any("Model versions on the same cases" in h.value for h in at.subheader)
    wide = next(d.value for d in at.dataframe if "spread" in d.value.columns).set_index("case_id")
    assert (wide.loc[case_id, "audit-old"], wide.loc[case_id, "audit-new"], wide.loc[case_id, "spread"]) == (5, 1, 4)
    agreement = next(d.value for d in at.dataframe if {"model_version", "within_one"} <= set(d.value.columns)
                     and "cases" in d.value.columns).set_index("model_version")  # fmt: skip
    assert agreement.loc["audit-old", "exact_agreement"] == 1.0 and agreement.loc["audit-new", "exact_agreement"] == 0.0


def test_a_case_id_from_the_url_is_never_rendered_as_markdown(app):
    at = app("doc", "clinician")
    at.query_params["case"] = "![x](http://127.0.0.1:9/x.png)"
    at.switch_page("pages/review.py").run()
    assert not at.title and not at.exception
    assert at.error[0].value.startswith(r"\!\[x\]\(http\:") and "is not a case id" in at.error[0].value
