"""``usegan read``: a B-mode and a lesion ROI in, the proposal on the whole image and on a box framing the lesion out.

What the review page does for one lesion (:func:`usegan.services.framed.read_lesion`), for batch work and audits:
generate the virtual elastogram, propose a score inside the ROI, and where the lesion is small in the frame also
read it framed in a box about 3x its size. Exit status: 0 when the whole image's proposal scores, 1 when it
cannot (the reason is printed), 2 for bad arguments or unreadable files.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from usegan.vocab import FrameChoice, Mode, Organ, values

FRAMING_HELP = (
    "also read the lesion framed: 'auto' when it is small in the frame (as the review page), or always / never"
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "read",
        help="propose a score for a lesion on a B-mode: whole image, and framed where the lesion is small",
        description="Generate the virtual elastogram of a B-mode, propose a score inside the lesion ROI as the "
        "review page does, and where the lesion is small in the frame (under a quarter of its shorter side) also "
        "read it on a box about 3x its size: the models read small lesions better framed (docs/fidelity.md).",
    )
    parser.add_argument("bmode", metavar="BMODE", type=Path, help="the B-mode image (PNG/JPEG/TIFF/DICOM)")
    parser.add_argument("--roi", required=True, metavar="x,y,w,h", help="lesion rectangle in pixels (top-left)")
    parser.add_argument("--mode", default=Mode.STRAIN.value, choices=values(Mode), help="elastography mode")
    parser.add_argument("--organ", default=Organ.BREAST.value, choices=values(Organ), help="organ")
    parser.add_argument("--model", type=Path, help="checkpoint (default: the model in use for --mode, as in the app)")
    parser.add_argument("--frame", default=FrameChoice.AUTO.value, choices=values(FrameChoice), help=FRAMING_HELP)
    parser.add_argument("--out", type=Path, help="write <stem>_elasto.png and <stem>_framed_elasto.png here")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(func=run)


def summary(reading) -> dict:
    """The JSON form of a :class:`usegan.services.framed.LesionReading` (no image arrays)."""
    out = {
        "model_version": reading.elastogram.model_version,
        "label": reading.elastogram.caption,
        "proposal": reading.proposal.to_dict(),
        "frame_fraction": None if reading.framing is None else round(reading.framing.fraction, 4),
        "small_in_frame": None if reading.framing is None else reading.framing.caution,
        "framed": None,
    }
    if (look := reading.framed) is not None:
        box = look.box
        out["framed"] = {"label": look.label, "box": [box.x, box.y, box.w, box.h], "proposal": look.proposal.to_dict()}
    return out


def _line(name: str, result) -> str:
    return f"{name}: {result.system} {result.score if result.score is not None else '-'} ({result.label})"


def run(args: argparse.Namespace) -> int:
    from usegan.commands import CommandError
    from usegan.commands.generate import load_engine
    from usegan.imageio import ImageLoadError, save_png
    from usegan.preprocess import read_image
    from usegan.scoring import RoiError, parse_rect
    from usegan.services.framed import read_lesion
    from usegan.settings import get_settings

    settings = get_settings()
    try:
        roi = parse_rect(args.roi)
        image = read_image(args.bmode, max_pixels=settings.max_image_pixels)
    except (RoiError, ImageLoadError) as exc:
        raise CommandError(str(exc)) from exc
    engine = load_engine(args.mode, args.model, settings)
    try:
        reading = read_lesion(image, roi, args.mode, args.organ, engine, args.frame)
    except ValueError as exc:  # a model of another mode
        raise CommandError(str(exc)) from exc
    record = summary(reading)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        stem = args.bmode.stem
        record["output"] = str(save_png(reading.elastogram.rgb, args.out / f"{stem}_elasto.png",
                                        text=reading.elastogram.png_text()))  # fmt: skip
        if (look := reading.framed) is not None:
            box = f"x {look.box.x}, y {look.box.y}, {look.box.w} x {look.box.h} px"
            text = {**look.elastogram.png_text(), "Description": f"{look.label}. The box {box} of the input B-mode."}
            record["framed"]["output"] = str(save_png(look.elastogram.rgb, args.out / f"{stem}_framed_elasto.png",
                                                      text=text))  # fmt: skip
    if args.json:
        print(json.dumps(record, indent=2))
    else:
        print(f"{args.bmode} - {record['label']}")
        print(_line("whole image", reading.proposal))
        if reading.framing is not None:
            print(
                f"lesion spans {reading.framing.fraction:.0%} of the frame"
                + (" (small)" if reading.framing.caution else "")
            )
        if (look := reading.framed) is not None:
            print(_line(f"framed {look.factor:g}x (box {look.box.x},{look.box.y},{look.box.w})", look.proposal))
    return 0 if reading.proposal.scored else 1
