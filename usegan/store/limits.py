"""Length limits on free text the store keeps: a 10 MB conclusion would be stored (and rendered, and put in the
PDF) with every save. Generous for clinical prose, small enough that nobody can fill the disk through a form."""

from __future__ import annotations

MAX_CONCLUSION = 20_000  # characters of a review's conclusion (several pages of a report)
MAX_NOTES = 5_000  # characters of a case's notes
MAX_REASON = 1_000  # characters of an amendment reason
MAX_IDENTIFIER = 64  # characters of a patient id (pseudonym) or side
MAX_NAME = 200  # characters of a patient name or an original file name


def check_text(field: str, value: object, limit: int) -> None:
    """``ValueError`` naming ``field`` when ``value`` is text longer than ``limit`` characters (``None`` passes)."""
    if value is None:
        return
    if not isinstance(value, str):
        raise ValueError(f"{field} must be text, got {type(value).__name__}")
    if len(value) > limit:
        raise ValueError(f"{field} may have at most {limit:,} characters, got {len(value):,}")
