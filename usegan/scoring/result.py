"""The result every score engine returns: the proposal, the numbers behind it, or why there is none."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

# Bump when a rule or threshold changes, so stored proposals say which algorithm made them.
ALGORITHM_VERSION = "usegan-scoring 1.0"


def _plain(value: Any) -> Any:
    """numpy scalars -> Python numbers, NaN/inf -> None, so ``to_dict`` is JSON-safe."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclass(frozen=True)
class ScoreResult:
    """An algorithm's proposal for one scoring system, with every intermediate figure.

    ``score`` is ``None`` exactly when the engine cannot score; ``reason`` then says why in one sentence.
    """

    system: str  # "tsukuba", "rago", "strain_ratio", "swe_breast", "swe_thyroid" or "swe_liver"
    score: int | None  # proposed class (1-based), None when it cannot score
    label: str  # the class's wording, e.g. "4: whole lesion hard"
    figures: dict[str, Any] = field(default_factory=dict)  # every number that led to the score
    reason: str | None = None  # why no score, or None
    algorithm_version: str = ALGORITHM_VERSION  # which rules made this proposal
    secondary: tuple[ScoreResult, ...] = ()  # results computed alongside, e.g. the strain ratio with Tsukuba

    @property
    def scored(self) -> bool:
        return self.score is not None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict (NaN -> None, numpy scalars -> Python numbers)."""
        return {
            "system": self.system,
            "score": self.score,
            "label": self.label,
            "figures": _plain(self.figures),
            "reason": self.reason,
            "algorithm_version": self.algorithm_version,
            "secondary": [r.to_dict() for r in self.secondary],
        }


def cannot_score(system: str, reason: str, figures: dict[str, Any] | None = None) -> ScoreResult:
    """A result with no score: ``reason`` is shown to the reviewer as "cannot score: <reason>"."""
    return ScoreResult(system, None, f"cannot score: {reason}", dict(figures or {}), reason)
