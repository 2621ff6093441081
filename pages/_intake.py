"""New-case page parts: crop controls with their live preview, and the tab that creates a case with the scanner's
real elastogram (two files, or one dual-display capture; the scanner's colour map from the list or its colour bar)."""

from __future__ import annotations

import streamlit as st

from pages._common import open_review, plain, show_error
from usegan.imageio import ImageLoadError
from usegan.screencrop import CropBox, InvalidCropError
from usegan.services.intake import crop_preview, read_upload, suggested_patient_id
from usegan.services.real_elastogram import (
    BAR_ENDS,
    SCANNER_MAP_NAMES,
    colour_bar_map,
    create_case_with_elastogram,
    preview_pair,
    read_elastogram_pair,
)
from usegan.services.templates import ORGANS, SIDES
from usegan.vocab import Mode

IMAGE_TYPES = ["png", "jpg", "jpeg", "tif", "tiff", "dcm", "dicom"]


def crop_controls(key: str, width: int, height: int, box: CropBox) -> CropBox:
    """x / y / width / height of a box on the image; outside any form, so every change redraws the preview."""
    c1, c2, c3, c4 = st.columns(4)
    x = c1.number_input("x", 0, width - 1, box.x, key=f"{key}_x")
    y = c2.number_input("y", 0, height - 1, box.y, key=f"{key}_y")
    w = c3.number_input("width", 1, width, box.w, key=f"{key}_w")
    h = c4.number_input("height", 1, height, box.h, key=f"{key}_h")
    return CropBox(int(x), int(y), int(w), int(h))


def show_crop(pixels, crop: CropBox, caption: str, current: CropBox | None = None, kept: str = "image area kept"):
    """The image with the crop outlined in orange (``True``); a warning (``False``) when the crop does not fit."""
    try:
        shown = crop_preview(pixels, crop, current)
    except InvalidCropError as exc:
        st.warning(plain(exc))
        return False
    area = f"x{crop.x} y{crop.y} {crop.w}x{crop.h} px"
    st.image(shown, caption=f"{caption}; orange = {kept}: {area}", width="stretch")
    return True


def real_elastogram_tab(store, settings, user: dict) -> None:
    st.caption(
        "A B-mode with the scanner's own (measured) elastogram of the same view: two files exported at the same "
        "size, or one dual-display capture (split automatically). Once its reading is signed, the case is a "
        "training pair for fine-tuning the model."
    )
    c1, c2 = st.columns(2)
    limit = settings.max_upload_mb
    bmode_file = c1.file_uploader("B-mode, or one dual-display capture", type=IMAGE_TYPES, key="new_case_real_bmode",
                                  max_upload_size=limit)  # fmt: skip
    elasto_file = c2.file_uploader("Elastogram (empty for a dual-display capture)", type=IMAGE_TYPES,
                                   key="new_case_real_elasto", max_upload_size=limit)  # fmt: skip
    if bmode_file is None:
        st.info("Choose the B-mode file (or a dual-display capture).")
        return
    bmode = (bmode_file.name, bmode_file.getvalue())
    elasto = None if elasto_file is None else (elasto_file.name, elasto_file.getvalue())
    try:
        pair = read_elastogram_pair(store, bmode, elasto, settings)
    except (ImageLoadError, ValueError) as exc:
        show_error("The pair cannot be read", exc, "Upload both files, or one capture showing both panels.")
        return
    scanner_map = _scanner_map(settings, pair, elasto)
    if scanner_map is None:
        return
    preview = preview_pair(pair, scanner_map)
    c1, c2 = st.columns(2)
    c1.image(preview.bmode, caption=f"B-mode image area ({pair.layout})", width=420)
    real = f"REAL {scanner_map.mode} elastogram (measured by the scanner) in the product's colours"
    c2.image(preview.product, caption=f"{real}; {preview.unknown:.0%} of its pixels on no colour of the map",
             width=420)  # fmt: skip
    with st.form("new_case_real_form"):
        suggested = suggested_patient_id(store, pair.bmode, settings)
        patient_id = st.text_input("Patient ID (stored only as its keyed pseudonym)", value=suggested,
                                   key="new_case_real_patient")  # fmt: skip
        c1, c2 = st.columns(2)
        organ = c1.selectbox("Organ", ORGANS, key="new_case_real_organ")
        side = c2.selectbox("Side", SIDES, key="new_case_real_side", format_func=lambda s: s or "-")
        create = st.form_submit_button("Create case with its real elastogram", type="primary")
    if create:
        try:
            case_id = create_case_with_elastogram(
                store, pair, scanner_map, user=user["username"], organ=organ, side=side,
                patient_id=patient_id.strip(), settings=settings,
            )  # fmt: skip
        except Exception as exc:  # a colour map that does not fit, a duplicate, a store error: each says why
            show_error("The case could not be created", exc, "Check the colour map and the files.")
        else:
            open_review(case_id)


def _scanner_map(settings, pair, elasto):
    """The scanner map: chosen from the list, or built from a crop of the colour bar; ``None`` (with a warning)
    while the crop is not a colour bar."""
    from usegan.intake.scanner_maps import SCANNER_MAPS

    from_bar = st.toggle("Build the colour map from the scanner's colour bar", key="new_case_real_from_bar")
    if not from_bar:
        return SCANNER_MAPS[st.selectbox("Scanner colour map", SCANNER_MAP_NAMES, key="new_case_real_map")]
    try:  # the bar is on the elastogram file (two files) or on the capture (dual display)
        pixels = pair.bmode.pixels if elasto is None else read_upload(elasto[1], elasto[0]).pixels
    except (ImageLoadError, ValueError) as exc:
        show_error("The elastogram file cannot be read", exc)
        return None
    image_col, control_col = st.columns([3, 2])
    with control_col:
        st.markdown("**Colour bar** (put the orange box around the bar alone)")
        height, width = pixels.shape[:2]
        guess = CropBox(max(0, width - 40), height // 4, min(12, width), max(1, height // 2))  # a bar at the right
        bar = crop_controls("new_case_real_bar", width, height, guess)
        c1, c2, c3, c4 = st.columns(4)
        mode = c1.selectbox("Mode", list(Mode), key="new_case_real_bar_mode")
        vmin = c2.number_input("Low value", value=0.0, key="new_case_real_bar_vmin")
        high = 1.0 if mode == Mode.STRAIN else 100.0  # strain is relative; SWE in kPa
        vmax = c3.number_input("High value", value=high, key=f"new_case_real_bar_vmax_{mode}")
        low_at = c4.selectbox("Low end at", BAR_ENDS, key="new_case_real_bar_low")
    with image_col:
        if not show_crop(pixels, bar, "Scanner colour bar", kept="colour bar"):
            return None
    try:
        return colour_bar_map(pixels, bar, mode, vmin, vmax, low_at)
    except (ValueError, InvalidCropError) as exc:
        st.warning(plain(exc))
        return None
