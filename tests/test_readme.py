"""The README's layout section names every module and package of the tree (and nothing that is not there)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _layout() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Repository layout", 1)[1]
    return section.split("```", 2)[1]


def test_layout_names_every_module_and_package():
    layout = _layout()
    names = re.findall(r"[A-Za-z_]\w*", layout)
    entries = [p for p in (ROOT / "usegan").iterdir() if p.name not in ("__init__.py", "__main__.py", "__pycache__")]
    missing = [p.name for p in entries if (p.is_dir() or p.suffix == ".py") and p.stem not in names]
    assert not missing, f"README layout does not mention usegan/{missing}"
    for folder in ("pages", "tests", "bench", "scripts", "docs"):
        assert f"{folder}/" in layout


def test_layout_names_nothing_that_is_gone():
    layout = _layout()
    named = set(re.findall(r"\b([a-z_]+)/", layout)) - {"data", "tests", "bench", "scripts", "docs", "pages", "usegan"}
    gone = [n for n in named if not (ROOT / "usegan" / n).is_dir() and not (ROOT / "docs" / n).is_dir()]
    assert not gone, f"README layout names packages that do not exist: {gone}"
    for script in re.findall(r"(\w+\.py)", layout):
        assert list(ROOT.glob(f"*/{script}")) or (ROOT / script).exists(), script
