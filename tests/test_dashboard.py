"""The dashboard's non-Streamlit helpers: canvas ROIs, overlay, distributions, templates, audit metrics, the case
service (generation cache, proposals, reviews), intake, comparison, models and teaching."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.app_fixtures import make_environment
from usegan import active_model
from usegan.colormaps import colormap_for
from usegan.scoring import Polygon, Rect, system_for
from usegan.scoring.roi import Ellipse
from usegan.scoring.systems import proposal_scale
from usegan.services import audit, compare, intake, service, templates
from usegan.services import model_catalog as models
from usegan.ui import figures, overlay, roi_canvas


# --- canvas ROIs ---------------------------------------------------------------------------------------------
def test_rect_from_canvas_is_divided_by_the_display_scale():
    obj = {"type": "rect", "left": 20, "top": 10, "width": 40, "height": 30, "scaleX": 1.5, "scaleY": 1,
           "stroke": roi_canvas.LESION_COLOUR}  # fmt: skip
    assert roi_canvas.object_to_roi(obj, 2.0) == Rect(10, 5, 30, 15)


def test_moved_polygon_points_follow_its_transform():
    points = [{"x": 10, "y": 10}, {"x": 50, "y": 10}, {"x": 30, "y": 40}]
    still = {"type": "polygon", "points": points}
    moved = still | {
        "left": 109,
        "top": 9,
        "width": 40,
        "height": 30,
        "strokeWidth": 2,
        "pathOffset": {"x": 30, "y": 25},
    }  # fmt: skip  (left = 100 + minX - stroke / 2)
    assert roi_canvas.object_to_roi(still, 1.0).points == ((10, 10), (50, 10), (30, 40))
    assert roi_canvas.object_to_roi(moved, 1.0).points == ((110, 10), (150, 10), (130, 40))


def test_freehand_path_becomes_a_closed_polygon_in_image_pixels():
    path = [["M", 0, 0], ["Q", 5, 5, 10, 0], ["L", 10, 10], ["L", 0, 10], ["z"]]
    roi = roi_canvas.object_to_roi({"type": "path", "path": path}, 0.5)
    assert isinstance(roi, Polygon) and roi.points == ((0, 0), (20, 0), (20, 20), (0, 20))


def test_roles_come_from_the_stroke_colour_and_the_newest_wins():
    objects = [
        {"type": "rect", "left": 0, "top": 0, "width": 10, "height": 10, "stroke": roi_canvas.LESION_COLOUR},
        {"type": "rect", "left": 5, "top": 5, "width": 10, "height": 10, "stroke": roi_canvas.LESION_COLOUR},
        {"type": "rect", "left": 1, "top": 1, "width": 4, "height": 4, "stroke": roi_canvas.REFERENCE_COLOUR},
        {"type": "rect", "left": 1, "top": 1, "width": 4, "height": 4, "stroke": "#000000"},
        {"type": "text", "left": 1, "top": 1, "text": "x", "stroke": roi_canvas.LESION_COLOUR},
    ]
    rois = roi_canvas.rois_from_canvas({"objects": objects}, 1.0)
    assert rois == {"lesion": Rect(5, 5, 10, 10), "reference": Rect(1, 1, 4, 4)}


def test_point_circle_and_caliper_line_from_a_zoomed_canvas():
    view = roi_canvas.viewport((100, 200), base_scale=2.0, zoom=2.0, centre=(0.5, 0.5))
    assert (view.scale, view.x0, view.y0, view.width, view.height) == (4.0, 50.0, 25.0, 400, 200)
    # the point tool: origin left/center, left = x - (radius + stroke / 2)
    point = {"type": "circle", "left": 200 - 11, "top": 100, "radius": 10, "strokeWidth": 2, "originX": "left",
             "originY": "center", "stroke": roi_canvas.QBOX_COLOUR}  # fmt: skip
    line = {"type": "line", "left": 100, "top": 100, "width": 80, "height": 0, "originX": "center",
            "originY": "center", "x1": -40, "y1": 0, "x2": 40, "y2": 0,
            "stroke": roi_canvas.CALIPER_COLOUR}  # fmt: skip
    marks = roi_canvas.marks_from_canvas({"objects": [point, line, point]}, view)
    assert marks.rois["qbox"] == Ellipse(100.0, 50.0, 2.5, 2.5)  # canvas (200, 100) / 4 + (50, 25)
    assert marks.lines["caliper"] == roi_canvas.Segment((65.0, 50.0), (85.0, 50.0))
    assert marks.lines["caliper"].length_px == 20.0
    assert marks.counts == {"qbox": 2, "caliper": 1} and marks.stale
    drawing = roi_canvas.rois_to_drawing(marks.rois | {"lesion": Rect(60, 30, 20, 10)}, view, lines=marks.lines)
    again = roi_canvas.marks_from_canvas(drawing, view)
    assert again.rois == marks.rois | {"lesion": Rect(60, 30, 20, 10)} and again.lines == marks.lines
    assert not again.stale
    assert view.background(np.zeros((100, 200, 3), np.uint8)).size == (400, 200)


def test_rois_round_trip_through_json_and_the_canvas_drawing():
    rois = {"lesion": Rect(3, 4, 10, 8), "reference": Polygon(((1.0, 1.0), (6.0, 1.0), (3.0, 5.0)))}
    assert roi_canvas.rois_from_json(roi_canvas.rois_to_json(rois)) == rois
    drawing = roi_canvas.rois_to_drawing(rois, 2.0)
    assert roi_canvas.rois_from_canvas(drawing, 2.0) == rois
    masks = roi_canvas.roi_masks(rois | {"lesion": Rect(500, 500, 4, 4)}, (20, 20))
    assert set(masks) == {"reference"}  # an ROI outside the image is dropped, not raised


# --- overlay and figures -----------------------------------------------------------------------------------
def test_overlay_blends_only_coloured_pixels():
    bmode = np.full((4, 4), 100, np.uint8)
    elasto = np.stack([bmode] * 3, -1).copy()
    elasto[:2] = (0, 0, 255)
    out = overlay.overlay(bmode, elasto, 0.5)
    assert tuple(out[0, 0]) == (50, 50, 178) and tuple(out[3, 3]) == (100, 100, 100)
    assert np.array_equal(overlay.overlay(bmode, elasto, 0.0)[..., 0], bmode)
    with pytest.raises(ValueError, match="opacity"):
        overlay.overlay(bmode, elasto, 1.5)


def test_strain_distribution_counts_hard_intermediate_soft_in_the_roi_and_the_box():
    cmap = colormap_for("strain")
    strain = np.full((10, 10), 0.9)
    strain[:, :5] = 0.1  # left half hard
    rgb = cmap.apply(strain)
    roi = np.zeros((10, 10), bool)
    roi[:, :5] = True
    dist = figures.distribution(rgb, "strain", None, roi)
    assert dist.classes == ("hard", "intermediate", "soft")
    assert dist.roi == pytest.approx((1.0, 0.0, 0.0)) and dist.box == pytest.approx((0.5, 0.0, 0.5))
    fig = figures.distribution_figure(dist)
    assert len(fig.data) == 2 and fig.data[0].y[0] == pytest.approx(100)
    assert len(figures.distribution_figure(figures.distribution(rgb, "strain")).data) == 1


def test_swe_distribution_is_a_kpa_histogram():
    rgb = colormap_for("swe").apply(np.full((6, 6), 95.0))
    dist = figures.distribution(rgb, "swe", {"vmin": 0, "vmax": 180})
    assert dist.unit == "kPa" and dist.box[dist.classes.index("90-100")] == pytest.approx(1.0)
    assert "kPa" in figures.colour_bar_figure("swe").layout.title.text


# --- templates and audit -----------------------------------------------------------------------------------
def test_conclusion_templates_follow_organ_and_score():
    assert "Tsukuba 4" in templates.conclusion_template("breast", 4)
    assert "Rago 5" in templates.conclusion_template("thyroid", 5)
    assert "VIRTUAL" in templates.conclusion_template("liver", 1)
    assert system_for("strain", "thyroid") == "rago"  # one owner for "which scale" (usegan.scoring)
    with pytest.raises(ValueError, match="1..5"):
        templates.conclusion_template("breast", 6)


def test_quadratic_weighted_kappa_matches_a_hand_computation():
    assert audit.quadratic_weighted_kappa([1, 2, 3, 4, 5], [1, 2, 3, 4, 5]) == pytest.approx(1.0)
    # Two raters, 2 cases: (1, 2) and (2, 1). O = [[0,1],[1,0]], E = [[.5,.5],[.5,.5]] over classes 1..5:
    # sum W*O = 2 * 1/16, sum W*E = 2 * 0.5/16 -> kappa = 1 - 2 = -1.
    assert audit.quadratic_weighted_kappa([1, 2], [2, 1]) == pytest.approx(-1.0)
    assert math.isnan(audit.quadratic_weighted_kappa([], []))
    matrix = audit.confusion_matrix([1, 4, None], [2, 4, 3])
    assert matrix[0, 1] == 1 and matrix[3, 3] == 1 and matrix.sum() == 2


# --- service, intake, comparison, models (one store with the fixture models and samples) --------------------
@pytest.fixture
def env(tmp_path, monkeypatch):
    variables = make_environment(tmp_path, n_samples=1, with_users=False)
    for key, value in variables.items():
        monkeypatch.setenv(key, value)
    from usegan.store import open_store
    from usegan.store import users as store_users

    monkeypatch.setattr(store_users, "HASHER", store_users.PasswordHasher(time_cost=1, memory_cost=1024))
    store = open_store()
    store.add_user("doc", "password-1234-xyz", "clinician", created_by="test")
    yield store, tmp_path
    store.close()


class CountingModel:
    """Wraps an elastographer and counts forward passes."""

    def __init__(self, inner):
        self.inner, self.info, self.calls = inner, inner.info, 0

    def generate(self, image):
        self.calls += 1
        return self.inner.generate(image)


def test_generation_is_cached_per_image_model_and_mode(env):
    store, root = env
    from usegan.inference import VirtualElastographer

    sample = intake.list_samples(root / "samples")[0]
    first, second = (intake.create_sample_case(store, sample, "doc") for _ in range(2))
    model = CountingModel(VirtualElastographer.from_checkpoint(active_model.resolve("strain", store)))
    cache = service.GenerationCache(4)
    g1 = service.generate_for_case(store, first, model, "doc", cache)
    assert service.generate_for_case(store, first, model, "doc", cache).generation_id == g1.generation_id
    g2 = service.generate_for_case(store, second, model, "doc", cache)  # same B-mode, another case: cache hit
    assert model.calls == 1 and cache.hits == 1 and g2.case_id == second
    assert g2.model_version == "tiny-strain-test" and store.get_case(second).status == "generated"


def test_open_case_scores_rois_and_signs_a_review(env):
    store, root = env
    from usegan.inference import VirtualElastographer

    case_id = intake.create_sample_case(store, intake.list_samples(root / "samples")[0], "doc")
    model = VirtualElastographer.from_checkpoint(active_model.resolve("strain", store))
    service.generate_for_case(store, case_id, model, "doc", service.GenerationCache())
    view = service.open_case(store, case_id, "strain")
    assert view.real is not None and view.caption.startswith("VIRTUAL STRAIN") and view.expected_version == 0
    assert service.score_rois(view.elasto, "strain", None, {}, "breast").reason.startswith("draw a lesion")
    assert service.score_rois(view.elasto, "strain", None, {"lesion": Rect(10, 10, 30, 30)}, "liver").score is None
    rois = {"lesion": Rect(30, 30, 30, 30), "reference": Rect(5, 5, 20, 6)}
    proposal = service.score_rois(view.elasto, "strain", view.generation.colour_scale, rois, "breast")
    assert proposal.system == "tsukuba" and proposal.score == 5  # the fixture model paints everything hard
    review = service.save_review(store, view, "doc", rois, 4, "text", proposal, action="sign")
    assert review.status == "signed" and review.confirmed_score == 4
    assert store.latest_prescore(case_id).score == 5  # the proposal stays apart from the confirmed score
    reopened = service.open_case(store, case_id, "strain")
    assert reopened.rois == rois and reopened.review.is_signed
    amended = service.save_review(store, reopened, "doc", rois, 3, "t", action="amend", reason="second look")
    assert amended.version == 2 and amended.amend_reason == "second look"
    table = audit.audit_table(store)
    assert table.loc[0, "lesion_type"] == "malignant" and audit.per_model_summary(table).loc[0, "readings"] == 1
    assert len(audit.disagreements(table)) == 1
    assert (
        audit.export_bytes(table, "csv").startswith(b"case_id") and audit.export_bytes(table, "parquet")[:4] == b"PAR1"
    )


def test_upload_with_a_crop_stores_the_cropped_gray_image(env):
    store, _ = env
    import io

    from PIL import Image

    rgb = np.zeros((60, 80, 3), np.uint8)
    rgb[10:50, 20:70] = np.random.default_rng(0).integers(0, 255, (40, 50, 1))
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG")
    preview = intake.read_upload(buffer.getvalue(), "scan.png")
    assert preview.n_frames == 1 and preview.width == 80
    from usegan.screencrop import CropBox

    case_id = intake.create_upload_case(store, preview, buffer.getvalue(), crop=CropBox(20, 10, 50, 40),
                                        organ="thyroid", user="doc", notes="n")  # fmt: skip
    case = store.get_case(case_id)
    assert case.bmode().shape == (40, 50) and case.crop == [20, 10, 50, 40] and case.original_name == "scan.png"


def test_ssim_is_one_for_identical_images_and_lower_for_different_ones():
    cmap = colormap_for("strain")
    a = cmap.apply(np.tile(np.linspace(0, 1, 32), (32, 1)))
    b = cmap.apply(np.tile(np.linspace(1, 0, 32), (32, 1)))
    assert compare.ssim(a, a) == pytest.approx(1.0)
    assert compare.ssim(a, b) < 0.9


def test_models_prefer_the_registry_active_version(env):
    store, root = env
    listed = models.list_models(store, root / "models")
    assert {(e.mode, e.origin, e.in_use) for e in listed} == {("strain", "bundled", True), ("swe", "bundled", True)}
    from tests.app_fixtures import tiny_checkpoint

    path = tiny_checkpoint(root / "elsewhere" / "s2.pt", "strain", "strain-v2")
    store.registry.register("strain-v2", "strain", path, created_by="doc")
    store.registry.set_active("strain-v2", by="doc")
    assert active_model.resolve("strain", store, root / "models") == path
    assert active_model.available_modes(store, root / "empty") == ["strain"]


def test_stamp_adds_a_label_strip_below_and_keeps_every_image_pixel():
    image = np.full((190, 133, 3), 77, np.uint8)
    out = overlay.stamp(image, "VIRTUAL - usegan-strain-v1")
    assert out.shape[0] > 190 and out.shape[1:] == (133, 3)
    assert np.array_equal(out[:190], image)  # nothing painted over the elastogram (the fat layer lies on top)
    assert out[190:].max() > 200  # the white text is in the strip


def test_proposal_scale_and_qbox_summary_say_what_the_numbers_are():
    assert "not Tsukuba" in proposal_scale("swe_breast")
    assert proposal_scale("tsukuba") == "Tsukuba 1-5"
    line = templates.qbox_summary({"emean_kpa": 120.4, "emax_kpa": 180.0, "sd_kpa": 9.6, "eratio": 7.5})
    assert line == "Emean 120 kPa · Emax 180 kPa · SD 10 kPa · Eratio 7.50"
    assert "Eratio" not in templates.qbox_summary({"emean_kpa": 1.0, "eratio": float("nan")})


def test_swe_class_never_becomes_the_confirmed_tsukuba_score(tmp_path):
    """Breast SWE class 2 means 'suspicious' while Tsukuba 2 means 'probably benign': a SWE proposal pre-fills only
    the SWE reading's picker (its own scale) and never becomes the case's headline (Tsukuba) proposed score."""
    import numpy as np

    from usegan.scoring import ScoreResult
    from usegan.store import Store

    store = Store(tmp_path / "db.duckdb", tmp_path / "images")
    case_id = store.create_case(np.zeros((32, 32), np.uint8), organ="breast", created_by="t")
    view = service.open_case(store, case_id, "swe")
    swe = ScoreResult("swe_breast", 2, "2: suspicious", {"emax_kpa": 120.0})
    tsukuba = ScoreResult("tsukuba", 4, "4: whole lesion hard", {})
    assert service.picker_start(view, swe) == 2  # the SWE reading is confirmed on the breast SWE class scale
    assert service.picker_start(view, tsukuba) is None  # a Tsukuba number never pre-fills an SWE reading
    strain_view = service.open_case(store, case_id, "strain")
    assert service.picker_start(strain_view, swe) is None and service.picker_start(strain_view, tsukuba) == 4
    service.record_proposal(store, view, swe, {}, "t")
    assert store.get_case(case_id).proposed_score is None  # stored as a pre-score, not as the headline
    assert store.latest_prescore(case_id).result["system"] == "swe_breast"
    service.record_proposal(store, service.open_case(store, case_id, "strain"), tsukuba, {}, "t")
    assert store.get_case(case_id).proposed_score == 4
    store.close()


def test_worklist_rows_show_blank_cells_and_whole_scores():
    import pandas as pd

    from usegan.ui.tables import worklist_rows

    table = pd.DataFrame(
        {"case_id": ["C-1", "C-2"], "side": [None, "left"], "exam_at": pd.to_datetime(["2026-01-01", None]),
         "proposed_score": [4.0, float("nan")], "confirmed_score": [None, 3]}
    )  # fmt: skip
    rows = worklist_rows(table)
    assert rows["side"].tolist() == ["", "left"]
    assert rows["proposed"].tolist() == ["4", ""] and rows["confirmed"].tolist() == ["", "3"]
    assert "None" not in rows.drop(columns="exam_at").to_string() and "nan" not in rows.to_string().lower()


def test_models_page_summaries_of_pairs_and_validation():
    metrics = {"validation_pairs": {"n": 4, "l1": 0.0512, "ssim_box": 0.81},
               "base_on_validation_pairs": {"n": 4, "l1": 0.0733}, "compared_with": "v1"}  # fmt: skip
    entry = models.ModelEntry("strain", "v2", "/m.pt", "registry", "candidate", False, metrics=metrics)
    assert models.validation_summary(entry) == "Validation pairs (4): L1 0.0512 vs base 0.0733 (v1) · SSIM 0.810"
    assert models.validation_summary(models.ModelEntry("swe", "b", "/b.pt", "bundled", "bundled", True)) is None
    counts = {"strain": {"train": 3, "validation": 1}, "swe": {"train": 0, "validation": 0}}
    assert models.pairs_summary(counts) == "strain: 3 train / 1 validation, swe: 0 train / 0 validation"
