"""Screen-capture cropping on synthetic scanner screens built around speckle images, and CropBox geometry."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw
from scipy import ndimage

from usegan.screencrop import CropBox, InvalidCropError, suggest_crop


def speckle_image(height: int, width: int, rng: np.random.Generator, shape: str = "rect") -> tuple:
    """B-mode-like image: complex Gaussian scatterers x echogenicity (skin, gland, anechoic cyst), blurred by an
    anisotropic PSF, envelope, 55 dB log compression. ``shape`` "rect" (linear probe) or "fan" (curvilinear).
    Returns (uint8 (H, W), bool mask of the image area)."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    echo = np.ones((height, width), np.float32)
    echo[yy < 0.08 * height] = 2.0
    echo[(yy > 0.35 * height) & (yy < 0.7 * height)] = 1.6
    echo[(yy - 0.5 * height) ** 2 + (xx - 0.45 * width) ** 2 < (0.1 * min(height, width)) ** 2] = 0.05
    field = (rng.normal(size=(height, width)) + 1j * rng.normal(size=(height, width))) * np.sqrt(echo)
    psf = (1.0, 2.5)
    envelope = np.abs(ndimage.gaussian_filter(field.real, psf) + 1j * ndimage.gaussian_filter(field.imag, psf))
    envelope *= np.exp(-0.6 * yy / height)
    db = 20 * np.log10(envelope / envelope.max() + 1e-12)
    image = np.clip((db + 55.0) / 55.0, 0, 1)
    mask = np.ones((height, width), bool)
    if shape == "fan":
        apex_y, apex_x = -0.35 * height, width / 2
        radius = np.hypot(yy - apex_y, xx - apex_x)
        angle = np.arctan2(xx - apex_x, yy - apex_y)
        mask = (radius >= -apex_y) & (radius <= height - apex_y) & (np.abs(angle) <= np.arctan2(width / 2, height))
    return np.rint(np.where(mask, image, 0.0) * 255).astype(np.uint8), mask


def screen_capture(rng, screen=(600, 800), box=(120, 90, 420, 360), shape="rect", background=8, image=None) -> tuple:
    """A scanner screen: the image at ``box`` (x, y, w, h) plus header text, a parameter line under the image,
    a depth ruler 3 px right of it, orientation letters, a gray bar, a colour bar, a logo and a focus marker.
    ``image`` (uint8 ``(h, w)``) replaces the built-in speckle image (e.g. a phantom B-mode).
    Returns (RGB uint8 screen, true CropBox of the image area)."""
    height, width = screen
    x, y, w, h = box
    canvas = np.full((height, width, 3), background, np.uint8)
    if image is None:
        image, mask = speckle_image(h, w, rng, shape)
    else:
        mask = np.ones(image.shape, bool)
    canvas[y : y + h, x : x + w] = image[..., None]
    pil = Image.fromarray(canvas)
    draw = ImageDraw.Draw(pil)
    draw.text((10, 10), "ACME Ultrasound  L12-5  Breast  MI 0.9 TIS 0.2", fill=(255, 255, 255))
    draw.text((10, 28), "Patient: TEST^PHANTOM   ID 123456   2026-01-01", fill=(230, 230, 230))
    draw.text((x, y + h + 8), "Gain 52  DR 60  FR 24Hz  Depth 4.0cm", fill=(255, 255, 255))
    draw.text((x + w + 30, y + h // 2), "R\nL\nA", fill=(255, 255, 0))
    for i, tick_y in enumerate(range(y, y + h, max(4, h // 40))):
        draw.line([(x + w + 3, tick_y), (x + w + 3 + (10 if i % 5 == 0 else 5), tick_y)], fill=(255, 255, 255))
    for j in range(120):
        t = j / 119
        hue = (int(255 * t), int(255 * (1 - abs(2 * t - 1))), int(255 * (1 - t)))
        draw.line([(width - 40, 150 + j), (width - 25, 150 + j)], fill=hue)
        draw.line([(width - 70, 150 + j), (width - 55, 150 + j)], fill=(int(255 * (1 - t)),) * 3)
    draw.ellipse([width - 110, 10, width - 60, 60], fill=(0, 90, 200))
    draw.text((width - 96, 28), "US", fill=(255, 255, 255))
    draw.polygon([(x - 12, y + h // 3), (x - 4, y + h // 3 - 4), (x - 4, y + h // 3 + 4)], fill=(255, 255, 255))
    rows, cols = np.nonzero(mask)
    true = CropBox(x + int(cols.min()), y + int(rows.min()), int(np.ptp(cols)) + 1, int(np.ptp(rows)) + 1)
    return np.asarray(pil), true


@pytest.mark.parametrize(
    ("seed", "shape", "screen", "box"),
    [
        (0, "rect", (600, 800), (120, 90, 420, 360)),
        (1, "fan", (600, 800), (150, 70, 480, 420)),
        (2, "rect", (480, 640), (200, 60, 300, 380)),  # portrait image
        (3, "fan", (768, 1024), (200, 80, 600, 560)),  # downsampled working resolution
    ],
)
def test_finds_image_area_of_screen_capture(seed, shape, screen, box):
    capture, true = screen_capture(np.random.default_rng(seed), screen, box, shape)
    suggestion = suggest_crop(capture)
    assert suggestion.box.iou(true) > 0.9, (suggestion, true)
    assert suggestion.confidence > 0.8


@pytest.mark.parametrize("quality", [90, 70])
def test_jpeg_compressed_capture(quality):
    capture, true = screen_capture(np.random.default_rng(5), (480, 640), (130, 80, 360, 300))
    buffer = io.BytesIO()
    Image.fromarray(capture).save(buffer, format="JPEG", quality=quality)
    jpeg = np.asarray(Image.open(buffer))
    assert suggest_crop(jpeg).box.iou(true) > 0.9


def test_gray_capture_on_lighter_background():
    capture, true = screen_capture(np.random.default_rng(6), (480, 640), (130, 80, 360, 300), background=40)
    assert suggest_crop(capture[..., 0]).box.iou(true) > 0.9


def test_without_the_clutter_the_box_would_be_wrong():
    """The text, ruler and bars matter: a plain bounding box of non-background pixels is far off."""
    capture, true = screen_capture(np.random.default_rng(7), (480, 640), (130, 80, 360, 300))
    rows, cols = np.nonzero(capture.max(axis=2) > 8)
    naive = CropBox(int(cols.min()), int(rows.min()), int(np.ptp(cols)) + 1, int(np.ptp(rows)) + 1)
    assert naive.iou(true) < 0.6
    assert suggest_crop(capture).box.iou(true) > 0.9


def test_plain_ultrasound_image_keeps_almost_everything():
    image, _ = speckle_image(200, 300, np.random.default_rng(1))
    suggestion = suggest_crop(image)
    assert suggestion.box.iou(CropBox.full(200, 300)) > 0.95


def test_blank_image_gives_whole_image_with_zero_confidence():
    suggestion = suggest_crop(np.zeros((120, 160), np.uint8))
    assert suggestion.box == CropBox.full(120, 160) and suggestion.confidence == 0.0


def test_rejects_non_image_arrays():
    with pytest.raises(ValueError, match="expected an"):
        suggest_crop(np.zeros(10))


def test_cropbox_geometry():
    box = CropBox(10, 20, 30, 40)
    assert (box.right, box.bottom) == (40, 60)
    assert box.iou(box) == 1.0 and box.iou(CropBox(40, 60, 5, 5)) == 0.0
    assert CropBox(0, 0, 10, 10).iou(CropBox(5, 0, 10, 10)) == pytest.approx(50 / 150)
    assert CropBox(-5, -5, 20, 20).clip(10, 12) == CropBox(0, 0, 12, 10)
    assert CropBox(50, 50, 5, 5).clip(10, 10) is None
    image = np.arange(100 * 100).reshape(100, 100)
    assert box.apply(image).shape == (40, 30) and box.apply(image)[0, 0] == 20 * 100 + 10


@pytest.mark.parametrize(
    ("box", "message"),
    [
        (CropBox(10, 10, 0, 20), "zero size"),
        (CropBox(10, 10, 20, -1), "zero size"),
        (CropBox(90, 10, 20, 20), "not inside the 100x50 image"),
        (CropBox(-1, 0, 20, 20), "not inside"),
    ],
)
def test_cropbox_validate_errors(box, message):
    with pytest.raises(InvalidCropError, match=message):
        box.validate(50, 100, "scan.png")
    assert CropBox(0, 0, 100, 50).validate(50, 100) == CropBox(0, 0, 100, 50)


@pytest.mark.parametrize("seed", [0, 2, 3])
def test_phantom_bmode_upscaled_on_a_screen(seed):
    """Phantom B-mode images (lower contrast than the speckle above) shown enlarged, as scanners display them."""
    from usegan.phantom.case import make_case, teaching_params

    # a typical phantom (no chest wall, no burned-in overlays): dark chest walls merging into a black screen are
    # a harder case the detector does not claim to solve
    kind = ("fibroadenoma", "cyst", "malignant", "iso_stiff")[seed]
    case = make_case(teaching_params(kind, seed=seed), seed=seed, size=96)
    shown = np.asarray(Image.fromarray(case.bmode).resize((300, 300), Image.BILINEAR))
    capture, true = screen_capture(np.random.default_rng(seed), (480, 640), (160, 70, 300, 300), image=shown)
    suggestion = suggest_crop(capture)
    assert suggestion.box.iou(true) > 0.9, (suggestion, true)
