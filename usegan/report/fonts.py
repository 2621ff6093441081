"""Pick the report font: a CJK-capable one when installed, else a Unicode one, else the built-in Helvetica.

Simplified Chinese needs a CJK font (Debian ``fonts-wqy-microhei``, installed by ``make run`` / ``make test``).
Without one the report still builds: Chinese characters are replaced and the report says why.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path

CJK_FONTS = (  # (path, collection index); first found wins
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),  # index 2 = Simplified Chinese
    ("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", 0),
)
UNICODE_FONTS = (
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
)
MISSING_CJK_NOTE = (
    "Note: Chinese characters could not be rendered (shown as ?): no CJK font is installed "
    "(install fonts-wqy-microhei)."
)


@dataclass(frozen=True)
class FontChoice:
    family: str  # name registered with fpdf2, or "helvetica"
    regular: str | None  # font file, None for the built-in core font
    bold: str | None  # bold file; the regular one again when there is no bold face
    collection_index: int  # face index inside a .ttc collection
    cjk: bool  # can render Simplified Chinese

    @property
    def unicode(self) -> bool:
        return self.regular is not None


def find_font(cjk_candidates=CJK_FONTS, unicode_candidates=UNICODE_FONTS) -> FontChoice:
    """The best installed font (pass empty candidate lists to force the fallbacks, e.g. in tests)."""
    for path, index in cjk_candidates:
        if Path(path).is_file():
            return FontChoice("cjk", path, path, index, True)
    for regular, bold in unicode_candidates:
        if Path(regular).is_file():
            return FontChoice("unicode", regular, bold if Path(bold).is_file() else regular, 0, False)
    return FontChoice("helvetica", None, None, 0, False)


def is_cjk(char: str) -> bool:
    return unicodedata.east_asian_width(char) in ("W", "F")


def make_safe(text: str, font: FontChoice) -> tuple[str, bool]:
    """``(text the font can draw, whether anything was replaced)``."""
    replaced = False
    if not font.cjk and any(is_cjk(c) for c in text):
        text, replaced = "".join("?" if is_cjk(c) else c for c in text), True
    if not font.unicode:  # core fonts are Latin-1 only
        text = text.replace("—", "-").replace("–", "-").replace("•", "-").replace("≥", ">=").replace("≤", "<=")
        encoded = text.encode("latin-1", errors="replace").decode("latin-1")
        replaced = replaced or encoded != text
        text = encoded
    return text, replaced
