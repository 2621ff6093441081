"""Raster image reading (formats, pages, orientation), every bad-input case, conversions and the letterbox."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from usegan.imageio import ImageLoadError, load_image, save_png, to_float01, to_gray, to_rgb_uint8
from usegan.letterbox import Letterbox


def encode(array: np.ndarray, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format=fmt, **options)
    return buffer.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width x height`` (no real pixel data): a decompression-bomb stand-in."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


GRADIENT = np.tile(np.arange(0, 240, 6, dtype=np.uint8), (30, 1))  # 30 x 40


@pytest.mark.parametrize(("fmt", "lossless"), [("PNG", True), ("BMP", True), ("TIFF", True), ("JPEG", False)])
def test_reads_common_formats_from_bytes_and_path(tmp_path, fmt, lossless):
    data = encode(GRADIENT, fmt)
    path = tmp_path / f"scan.{fmt.lower()}"
    path.write_bytes(data)
    for source in (data, path, str(path)):
        array = load_image(source)
        assert array.shape == (30, 40) and array.dtype == np.uint8
        error = np.abs(array.astype(int) - GRADIENT).max()
        assert error == 0 if lossless else error < 12


def test_rgb_and_rgba_and_16_bit():
    rgb = np.zeros((10, 12, 3), np.uint8)
    rgb[..., 1] = 200
    assert load_image(encode(rgb, "PNG")).shape == (10, 12, 3)
    rgba = np.dstack([rgb, np.full((10, 12), 128, np.uint8)])
    loaded = load_image(encode(rgba, "PNG"))
    assert loaded.shape == (10, 12, 4)
    # composited on black: green 200 at alpha 128/255, times the luma weight of green
    assert to_gray(loaded)[0, 0] == pytest.approx(200 / 255 * 128 / 255 * 0.587, abs=1e-3)
    assert to_rgb_uint8(loaded)[0, 0, 1] == round(200 * 128 / 255)
    deep = (np.arange(10 * 12, dtype=np.uint16).reshape(10, 12) * 500).astype(np.uint16)
    loaded16 = load_image(encode(deep, "PNG"))
    assert loaded16.dtype == np.uint16
    np.testing.assert_array_equal(loaded16, deep)
    assert to_float01(loaded16).max() == pytest.approx(deep.max() / 65535)


def test_multi_page_tiff_frames():
    pages = [Image.fromarray(np.full((16, 16), v, np.uint8)) for v in (10, 20, 30)]
    buffer = io.BytesIO()
    pages[0].save(buffer, format="TIFF", save_all=True, append_images=pages[1:])
    data = buffer.getvalue()
    assert load_image(data, frame=2)[0, 0] == 30 and load_image(data)[0, 0] == 10
    with pytest.raises(ImageLoadError, match=r"frame index 3 out of range; the image has 3 frame"):
        load_image(data, frame=3)


def test_exif_orientation_is_applied():
    image = Image.fromarray(np.zeros((10, 20), np.uint8))  # 20 wide, 10 high as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif.tobytes())
    assert load_image(buffer.getvalue()).shape == (20, 10)


# --- bad input ---------------------------------------------------------------------------------------------


def test_missing_file_directory_and_empty(tmp_path):
    with pytest.raises(ImageLoadError, match=r"nope\.png: no such file"):
        load_image(tmp_path / "nope.png")
    with pytest.raises(ImageLoadError, match="is a directory"):
        load_image(tmp_path)
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    with pytest.raises(ImageLoadError, match=r"empty\.png: file is empty"):
        load_image(empty)


def test_not_an_image(tmp_path):
    text = tmp_path / "notes.png"
    text.write_text("this is a report, not a picture")
    with pytest.raises(ImageLoadError, match=r"notes\.png: not a readable image"):
        load_image(text)


def test_truncated_png(tmp_path):
    noise = np.random.default_rng(0).integers(0, 255, (64, 64), dtype=np.uint8)
    data = encode(noise, "PNG")
    path = tmp_path / "cut.png"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageLoadError, match=r"cut\.png: not a readable image .*truncated"):
        load_image(path)


def test_one_pixel_image():
    with pytest.raises(ImageLoadError, match=r"image is 1x1 pixels; at least 8x8"):
        load_image(encode(np.zeros((1, 1), np.uint8), "PNG"))


@pytest.mark.parametrize(
    ("width", "height", "message"),
    [(10_000, 5_000, "over the limit of 40,000,000"), (100_000, 100_000, "decompression bomb")],
)
def test_decompression_bomb_refused_from_header(width, height, message):
    data = png_header_only(width, height)
    assert len(data) < 100  # nothing is decoded: the header alone is refused
    with pytest.raises(ImageLoadError, match=message):
        load_image(data)


def test_bad_arrays_and_types():
    with pytest.raises(ImageLoadError, match="expected"):
        load_image(np.zeros((4, 4, 4, 4)))
    with pytest.raises(ImageLoadError, match="not a number type"):
        load_image(np.full((10, 10), "a", dtype=object))
    with pytest.raises(ImageLoadError, match="unsupported image source type"):
        load_image(12345)  # type: ignore[arg-type]


# --- conversions and writing -------------------------------------------------------------------------------


def test_to_float01_ranges():
    assert to_float01(np.array([[0, 255]], np.uint8)).tolist() == [[0.0, 1.0]]
    assert to_float01(np.array([[0, 65535]], np.uint16)).tolist() == [[0.0, 1.0]]
    assert to_float01(np.array([[-1.0, 3.0]])).tolist() == [[0.0, 1.0]]
    assert to_gray(np.zeros((8, 8, 1), np.uint8)).shape == (8, 8)


def test_save_png_round_trip_leaves_no_temp(tmp_path):
    rgb = np.random.default_rng(1).integers(0, 255, (9, 11, 3), dtype=np.uint8)
    path = save_png(rgb, tmp_path / "sub" / "out.png")
    np.testing.assert_array_equal(load_image(path), rgb)
    assert [p.name for p in path.parent.iterdir()] == ["out.png"]


def test_letterbox_round_trip_points_and_images():
    box = Letterbox.fit(30, 80, 32)  # wide image: padding above and below
    assert (box.inner_width, box.inner_height, box.pad_left) == (32, 12, 0) and box.pad_top == 10
    points = np.array([[0.0, 0.0], [80.0, 30.0], [12.5, 7.25]])
    np.testing.assert_allclose(box.points_to_source(box.points_to_model(points)), points, atol=1e-9)
    np.testing.assert_allclose(box.points_to_model(points[:2]), [[0, 10], [32, 22]])
    image = np.full((30, 80), 200, np.uint8)
    model = box.to_model(image)
    assert model.shape == (32, 32) and model[:10].max() == 0 and model[10:22].min() == 200
    assert box.to_source(model).shape == (30, 80)
    with pytest.raises(ValueError, match="letterbox expects 80x30"):
        box.to_model(np.zeros((10, 10)))
    with pytest.raises(ValueError, match="model size must be at least 8"):
        Letterbox.fit(30, 80, 4)
