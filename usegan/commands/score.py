"""``usegan score``: the algorithm's score proposal for a coloured elastogram and an ROI.

Exit status: 0 when a score is proposed, 1 when the engine cannot score (the reason is printed), 2 for bad
arguments or unreadable files.
"""

from __future__ import annotations

import argparse
import json

from usegan.vocab import Mode, Organ, values


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "score",
        help="propose an elasticity score (Tsukuba, Rago, strain ratio, SWE Q-box) for an elastogram",
        description="Invert the elastogram's colour map inside a lesion ROI and propose a score with every "
        "figure behind it. Strain: Tsukuba (breast) or Rago (thyroid), plus the strain ratio with --ref. "
        "SWE: Q-box Emean/Emax/Emin/SD in kPa and m/s with the organ's interpretation, Eratio with --ref.",
    )
    parser.add_argument("elastogram", metavar="ELASTO.png", help="the coloured elastogram image")
    parser.add_argument("--mode", required=True, choices=values(Mode), help="elastography mode")
    roi = parser.add_mutually_exclusive_group(required=True)
    roi.add_argument("--roi", metavar="x,y,w,h", help="lesion rectangle in pixels (origin top-left)")
    roi.add_argument("--mask", metavar="MASK.png", help="lesion mask image, same size; non-zero = lesion")
    parser.add_argument("--ref", metavar="x,y,w,h", help="reference (fat) rectangle for strain ratio / Eratio")
    parser.add_argument("--organ", default=Organ.BREAST.value, choices=values(Organ), help="organ")
    parser.add_argument("--vmin", type=float, default=None, help="SWE colour scale minimum in kPa (default 0)")
    parser.add_argument("--vmax", type=float, default=None, help="SWE colour scale maximum in kPa (default 180)")
    parser.add_argument(
        "--strain-log-range",
        type=float,
        default=None,
        metavar="R",
        help="strain display is logarithmic from s_ref/R (blue) to s_ref*R (red), as the phantom's; default linear",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(func=run)


def _format(result) -> str:
    lines = [f"{result.system}: {result.label}"]
    for key, value in result.figures.items():
        lines.append(f"  {key}: {value:.4g}" if isinstance(value, float) else f"  {key}: {value}")
    lines.append(f"  algorithm: {result.algorithm_version}")
    for extra in result.secondary:
        lines.append(_format(extra))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from usegan.colormaps import colormap_for
    from usegan.commands import CommandError
    from usegan.imageio import ImageLoadError, load_image
    from usegan.scoring import RoiError, StrainScale, parse_rect, propose
    from usegan.settings import get_settings

    if (args.vmin is not None or args.vmax is not None) and args.mode != Mode.SWE:
        raise CommandError("--vmin/--vmax set the SWE kPa scale; strain is relative (0-1)")
    max_pixels = get_settings().max_image_pixels
    try:
        image = load_image(args.elastogram, max_pixels=max_pixels)
        lesion = load_image(args.mask, max_pixels=max_pixels) if args.mask else parse_rect(args.roi)
        reference = parse_rect(args.ref) if args.ref else None
        colormap = colormap_for(args.mode, args.vmin, args.vmax)
        scale = StrainScale() if args.strain_log_range is None else StrainScale("log", args.strain_log_range)
    except (ImageLoadError, RoiError, ValueError) as exc:
        raise CommandError(str(exc)) from None
    if image.ndim != 3 or image.dtype.name != "uint8":
        raise CommandError(f"{args.elastogram}: an elastogram must be an 8-bit colour image, got {image.shape}")
    try:
        result = propose(image, args.mode, lesion, reference, organ=args.organ, colormap=colormap, strain_scale=scale)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    print(json.dumps(result.to_dict(), indent=2) if args.json else _format(result))
    return 0 if result.scored else 1
