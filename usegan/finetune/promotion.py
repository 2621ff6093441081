"""Promotion and rollback rules over ``store.registry``.

* **Promote**: a candidate replaces the active model of its mode only if it is not worse on the store's
  *validation pairs* (mean L1, :func:`usegan.finetune.validate.is_worse`). The figures recorded at fine-tune time
  are used when they still apply (same active model, same validation cases); otherwise both models are evaluated
  again on the current validation pairs. A refused candidate can be forced with a reason; the audit row of the
  promotion records ``forced``, the reason and the comparison. With no validation pair there is no evidence, so
  promotion needs force too. With no active model there is nothing to be worse than.
* **Rollback**: the most recently promoted retired version of the mode becomes active again (the current one is
  retired); audited with ``rollback_from``. Rolling back twice returns to where you were.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from usegan.finetune.pairs import export_snapshot, list_pairs
from usegan.finetune.validate import evaluate_on_pairs, is_worse
from usegan.vocab import ModelStatus


class PromotionRefused(ValueError):
    """The candidate is worse than (or cannot be shown no worse than) the active model; ``comparison`` says why."""

    def __init__(self, message: str, comparison: dict) -> None:
        super().__init__(message)
        self.comparison = comparison


@dataclass(frozen=True)
class PromotionPolicy:
    max_l1_increase: float = 0.0  # validation L1 the candidate may lose vs the active model (0 = must not be worse)


@dataclass(frozen=True)
class Promotion:
    record: object  # usegan.store.ModelRecord of the now active version
    previous: str | None  # version that was active before
    comparison: dict  # {"candidate", "active", "worse", "reevaluated", "reason"}
    forced: bool  # True when promoted despite a refusal


def compare_with_active(store, version: str, policy: PromotionPolicy = PromotionPolicy()) -> dict:
    """How ``version`` does against the active model of its mode on the current validation pairs."""
    record = store.registry.get(version)
    active = store.registry.active(record.mode)
    if active is None:
        return {"candidate": None, "active": None, "worse": False, "reevaluated": False, "reason": "no active model"}
    val_ids = [p.case_id for p in list_pairs(store, record.mode, "validation")]
    if not val_ids:
        return {"candidate": None, "active": active.version, "worse": True, "reevaluated": False,
                "reason": "no validation pairs to compare on"}  # fmt: skip
    recorded = record.metrics or {}
    cand, base = recorded.get("validation_pairs") or {}, recorded.get("base_on_validation_pairs") or {}
    reuse = recorded.get("compared_with") == active.version and cand.get("case_ids") == val_ids and "l1" in base
    if not reuse:
        with tempfile.TemporaryDirectory(prefix="usegan-compare-") as tmp:
            export_snapshot(store, record.mode, tmp, splits=("validation",))
            cand = evaluate_on_pairs(record.path, tmp)
            base = evaluate_on_pairs(active.path, tmp)
    worse = is_worse(cand, base, policy.max_l1_increase)
    reason = f"validation L1 {cand['l1']:.4f} vs active {active.version} {base['l1']:.4f} on {len(val_ids)} pairs" + (
        " (worse)" if worse else ""
    )
    strip = {"case_ids"}
    return {
        "candidate": {k: v for k, v in cand.items() if k not in strip},
        "active": {"version": active.version, **{k: v for k, v in base.items() if k not in strip}},
        "worse": worse,
        "reevaluated": not reuse,
        "reason": reason,
    }


def promote(
    store,
    version: str,
    *,
    by: str,
    force: bool = False,
    reason: str = "",
    policy: PromotionPolicy = PromotionPolicy(),
) -> Promotion:
    """Make ``version`` the active model of its mode, unless it is worse (see the module docstring).

    Raises :class:`PromotionRefused` (active model unchanged), or ``ValueError`` for ``force`` without a reason or
    a version that is already active."""
    if force and not (isinstance(reason, str) and reason.strip()):
        raise ValueError(f"a forced promotion needs a reason, got {reason!r}")
    record = store.registry.get(version)
    if record.status == ModelStatus.ACTIVE:
        raise ValueError(f"{version!r} is already the active {record.mode} model")
    if not Path(record.path).is_file():
        raise ValueError(f"the checkpoint of {version!r} is missing: {record.path}")
    previous = store.registry.active(record.mode)
    comparison = compare_with_active(store, version, policy)
    if comparison["worse"] and not force:
        raise PromotionRefused(
            f"refused to promote {version}: {comparison['reason']}; use force with a reason to override", comparison
        )
    note = {"comparison": comparison, "forced": bool(force and comparison["worse"])}
    if reason and reason.strip():
        note["reason"] = reason.strip()
    promoted = store.registry.set_active(version, by=by, note=note)
    return Promotion(promoted, None if previous is None else previous.version, comparison, note["forced"])


def rollback(store, mode: str, *, by: str, reason: str = ""):
    """Re-activate the version that was active before the current one; returns its ``ModelRecord``.

    Raises ``ValueError`` when there is no earlier version to return to."""
    current = store.registry.active(mode)
    earlier = [r for r in store.registry.list(mode) if r.status == ModelStatus.RETIRED and r.promoted_at is not None]
    if current is not None:
        earlier = [r for r in earlier if r.version != current.version]
    earlier = [r for r in earlier if Path(r.path).is_file()]
    if not earlier:
        raise ValueError(f"no earlier {mode} model to roll back to")
    target = max(earlier, key=lambda r: r.promoted_at)
    note = {"rollback_from": None if current is None else current.version}
    if reason and reason.strip():
        note["reason"] = reason.strip()
    return store.registry.set_active(target.version, by=by, note=note)
