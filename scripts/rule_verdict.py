"""Judge a candidate model against a shipping rule written before it was evaluated, item by item.

    python scripts/rule_verdict.py --baseline-report base/report.json --candidate-report cand/report.json \
        --compare compare/compare.json --false-hard-cut 0.15 --type-margin 2 --hybrid-gain carcinoma=5 \
        --kappa-margin test=0.015 --kappa-gain held-out=0.03 --visible-floor test=0.80 --ncc-floor test=0.65 \
        --mae-margin test=2

The measurements come from the tools that make them, run on the same cases for both models: the baseline's and the
candidate's ``report.json`` of ``scripts/fidelity_report.py`` (false-hard rate on real lesion-free scans; lesions
drawn into real scans, ``--hybrid``, and the second simulator, ``--second-sim``, whole and framed) and the
``compare.json`` of ``scripts/compare_models.py`` (kappa change with its paired interval, kappa on lesions the B-mode
shows, NCC and SWE lesion MAE per phantom set). Each flag is one item of the rule; an item whose measurement is
missing fails (a rule is not passed by what was not measured). Prefer margins against the baseline on the same
cases (``--visible-margin``, ``--ncc-margin``) to absolute floors: a floor set on one phantom set can sit above
what the baseline itself reaches on another (docs/fidelity.md, swe-avg6). Off-map must be 0.000 in every
measurement given. Prints one line per item and the verdict; exits 0 when every item passes, 1 otherwise. Write the
rule, with these flags, into docs/fidelity.md before the candidate exists (docs/fidelity.md keeps the rules and their
outcomes).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from usegan.training.rfsim import LESION_TYPES  # noqa: E402 - the types a hybrid / second-simulator reading counts

# the fidelity report's lesion readings, whole and framed: report key -> what the rule calls it
READINGS = {"hybrid": "lesions drawn into real scans", "second_simulator": "second simulator"}


@dataclass(frozen=True)
class Item:
    """One item of a rule: its name, whether it passed, and what was measured against what it needed."""

    name: str
    passed: bool
    detail: str


def _assignments(values: list[str], flag: str, usage: str, parse, what: str, keys=None) -> dict:
    """``["KEY=VALUE", ...]`` -> ``{KEY: parse(VALUE)}``. Refused by name: a value without ``KEY=``, a key given
    twice or not among ``keys`` (when given: ``usage`` says which), and a value ``parse`` rejects with ``ValueError``
    (``what`` it should be)."""
    out = {}
    for value in values:
        key, sep, text = value.partition("=")
        if not sep or not key or key in out or (keys is not None and key not in keys):
            raise SystemExit(f"{flag} takes {usage}, got {value!r}")
        try:
            out[key] = parse(text)
        except ValueError:
            raise SystemExit(f"{flag} {value!r}: {text!r} is not {what}") from None
    return out


def _positive_int(text: str) -> int:
    """``"5"`` -> 5; ``ValueError`` for anything but a whole number >= 1."""
    number = int(text)
    if number < 1:
        raise ValueError(text)
    return number


def _counts(reading: dict | None, framed: bool) -> list[int] | None:
    """Lesions read as expected per type (carcinoma, fibroadenoma, cyst) of a hybrid / second-simulator reading."""
    if reading is None:
        return None
    part = reading.get("framed") if framed else reading
    if part is None:
        return None
    return [part["by_type"][t]["as_expected"] for t in LESION_TYPES]


# per-set items (compare.json): flag -> (label, field of the set summary, how the candidate must relate)
SET_ITEMS = {
    "kappa_margin": ("kappa change over the baseline", "kappa", "change"),
    "kappa_gain": ("kappa gain over the baseline (an aim)", "kappa", "gain"),
    "visible_floor": ("kappa, lesions the B-mode shows", "kappa_visible", "floor"),
    "visible_margin": ("kappa, lesions the B-mode shows, vs the baseline", "kappa_visible", "down_at_most"),
    "ncc_floor": ("NCC of the scalar with the truth", "ncc", "floor"),
    "ncc_margin": ("NCC of the scalar with the truth, vs the baseline", "ncc", "down_at_most"),
    "mae_margin": ("SWE lesion MAE, kPa", "mae_kpa_lesion", "up_at_most"),
}


def _set_item(flag: str, name: str, result: dict | None, x: float) -> Item:
    label, field, how = SET_ITEMS[flag]
    title = f"{name}: {label}"
    try:
        base, cand = float(result["baseline"][field]), float(result["candidate"][field])
        change = result["change"]
    except (KeyError, TypeError):
        return Item(title, False, f"not measured on set {name!r}")
    if how in ("change", "gain"):  # a margin it may lose, or a gain it must make with its interval above 0
        need = -x if how == "change" else x
        ok = change["kappa"] >= need - 1e-9 and (how == "change" or change["low"] > 0)
        also = "" if how == "change" else ", and a 95 % CI above 0"
        return Item(title, ok, f"{base:.3f} -> {cand:.3f}, {change['kappa']:+.3f} (95 % CI {change['low']:+.3f} to "
                               f"{change['high']:+.3f}; needs >= {need:+.3f}{also})")  # fmt: skip
    need = {"floor": x, "down_at_most": base - x, "up_at_most": base + x}[how]
    ok = cand <= need + 1e-9 if how == "up_at_most" else cand >= need - 1e-9
    return Item(title, ok, f"{base:.3f} -> {cand:.3f} (needs {'<=' if how == 'up_at_most' else '>='} {need:.3f})")


def judge(
    baseline: dict,
    candidate: dict,
    compare: dict,
    false_hard_cut: float | None = None,
    type_margin: int | None = None,
    per_set: dict[str, dict[str, float]] | None = None,
    hybrid_gain: dict[str, int] | None = None,
) -> list[Item]:
    """The items of a rule, in order. ``baseline`` / ``candidate``: one mode's entry of a fidelity report's
    ``models``; ``compare``: ``compare.json``'s ``results`` (set -> baseline / candidate / change).

    ``false_hard_cut``: the candidate's false-hard rate at most the baseline's minus this; ``type_margin``: each
    lesion type read as expected, whole and framed, on the hybrids and on the second simulator, at least the
    baseline's minus this (None: no such items); ``per_set``: a key of :data:`SET_ITEMS` -> {set: value};
    ``hybrid_gain``: lesion type -> how many more of it the candidate must read as expected than the baseline on the
    lesions drawn into real scans, whole image (what a candidate aims at, as against a margin it may not lose). Off-map
    0.000 in every measurement given is always an item."""
    items: list[Item] = []
    if false_hard_cut is not None:
        base, cand = baseline.get("false_hard_rate"), candidate.get("false_hard_rate")
        if None in (base, cand):
            items.append(Item("false-hard rate on the real scans", False, "not measured"))
        else:
            need = base - false_hard_cut
            items.append(Item("false-hard rate on the real scans", cand <= need + 1e-9,
                              f"{base:.3f} -> {cand:.3f} (needs <= {need:.3f})"))  # fmt: skip
    if type_margin is not None:
        for key, label in READINGS.items():
            for framed in (False, True):
                base, cand = _counts(baseline.get(key), framed), _counts(candidate.get(key), framed)
                name = f"{label}, {'framed' if framed else 'whole'}: {' / '.join(LESION_TYPES)} as expected"
                if None in (base, cand):
                    items.append(Item(name, False, "not measured"))
                    continue
                ok = all(c >= b - type_margin for b, c in zip(base, cand, strict=True))
                items.append(Item(name, ok, f"{base} -> {cand} (each needs >= baseline - {type_margin})"))
    for lesion_type, gain in (hybrid_gain or {}).items():
        name = f"{READINGS['hybrid']}, whole: {lesion_type} as expected, gain"
        base, cand = _counts(baseline.get("hybrid"), False), _counts(candidate.get("hybrid"), False)
        if None in (base, cand):
            items.append(Item(name, False, "not measured"))
            continue
        b, c = base[LESION_TYPES.index(lesion_type)], cand[LESION_TYPES.index(lesion_type)]
        items.append(Item(name, c >= b + gain, f"{b} -> {c} (needs >= {b + gain})"))
    for flag, table in (per_set or {}).items():
        items.extend(_set_item(flag, name, compare.get(name), x) for name, x in table.items())
    off = {f"{name}, candidate": r.get("candidate", {}).get("off_map_max") for name, r in compare.items()}
    off["real scans"] = candidate.get("real_off_map_max")
    off.update({f"garbage {k}": v for k, v in (candidate.get("garbage_off_map") or {}).items()})
    for key in READINGS:
        if candidate.get(key):
            off[key] = candidate[key].get("off_map_max")
            off[f"{key}, framed"] = (candidate[key].get("framed") or {}).get("off_map_max")
    given = [v for v in off.values() if v is not None]
    items.append(Item("off-map 0.000 everywhere", bool(given) and max(given) == 0,
                      f"largest {max(given, default=float('nan')):.3f} over {len(given)} measurements"))  # fmt: skip
    return items


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline-report", type=Path, required=True, help="fidelity_report.py report.json, baseline")
    parser.add_argument("--candidate-report", type=Path, required=True, help="the same for the candidate")
    parser.add_argument("--compare", type=Path, required=True, help="compare_models.py compare.json")
    parser.add_argument("--mode", help="the models' mode in the reports (default: the only one)")
    parser.add_argument("--false-hard-cut", type=float, help="false-hard rate <= baseline's - CUT")
    parser.add_argument("--type-margin", type=int, help="each lesion type as expected >= baseline's - MARGIN")
    parser.add_argument(
        "--hybrid-gain",
        nargs="*",
        default=[],
        metavar="TYPE=N",
        help="that lesion type as expected on the hybrids, whole, >= baseline's + N",
    )
    parser.add_argument("--kappa-margin", nargs="*", default=[], metavar="SET=X", help="kappa change >= -X")
    parser.add_argument("--kappa-gain", nargs="*", default=[], metavar="SET=X",
                        help="kappa change >= X with its 95 %% CI above 0 (an aim)")  # fmt: skip
    parser.add_argument("--visible-floor", nargs="*", default=[], metavar="SET=X", help="visible kappa >= X")
    parser.add_argument("--visible-margin", nargs="*", default=[], metavar="SET=X", help="visible >= baseline - X")
    parser.add_argument("--ncc-floor", nargs="*", default=[], metavar="SET=X", help="NCC >= X")
    parser.add_argument("--ncc-margin", nargs="*", default=[], metavar="SET=X", help="NCC >= baseline - X")
    parser.add_argument("--mae-margin", nargs="*", default=[], metavar="SET=X", help="SWE lesion MAE <= baseline + X")
    parser.add_argument("--json", action="store_true", help="print the items as JSON")
    args = parser.parse_args(argv)

    reports = []
    for path in (args.baseline_report, args.candidate_report):
        models = json.loads(path.read_text())["models"]
        mode = args.mode or (next(iter(models)) if len(models) == 1 else None)
        if mode not in models:
            raise SystemExit(f"{path}: pass --mode, one of {', '.join(models)}")
        reports.append(models[mode])
    per_set = {
        flag: _assignments(getattr(args, flag), "--" + flag.replace("_", "-"),
                           "SET=NUMBER (a set name of compare.json), each SET once", float, "a number")
        for flag in SET_ITEMS
    }  # fmt: skip
    gains = _assignments(args.hybrid_gain, "--hybrid-gain", f"TYPE=N, each TYPE once, one of {', '.join(LESION_TYPES)} "
                         "(a loss the rule allows is --type-margin)", _positive_int, "a whole number >= 1",
                         keys=LESION_TYPES)  # fmt: skip
    items = judge(
        *reports,
        json.loads(args.compare.read_text())["results"],
        false_hard_cut=args.false_hard_cut,
        type_margin=args.type_margin,
        per_set={flag: table for flag, table in per_set.items() if table},
        hybrid_gain=gains,
    )
    passed = all(item.passed for item in items)
    if args.json:
        print(json.dumps({"passed": passed, "items": [item.__dict__ for item in items]}, indent=2))
    else:
        for item in items:
            print(f"{'pass' if item.passed else 'FAIL'}  {item.name}: {item.detail}")
        failed = sum(not item.passed for item in items)
        print("verdict: every item passes" if passed else f"verdict: fails {failed} of {len(items)} items")
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
