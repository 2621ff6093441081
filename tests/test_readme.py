"""The README: its layout section names every module and package of the tree (and nothing that is not there),
and every setting it names (and every setting there is) is read by the code."""

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


def _code_reading_settings() -> str:
    """The source of every module that may read a setting (the package outside settings.py, pages, the app); a
    setting is read as ``settings.<name>`` there."""
    files = [p for p in (ROOT / "usegan").rglob("*.py") if p.name != "settings.py"]
    files += [*(ROOT / "pages").glob("*.py"), ROOT / "app.py", ROOT / "serve.py"]
    return "\n".join(p.read_text(encoding="utf-8") for p in files)


def test_every_setting_the_readme_names_is_read_by_the_code():
    from dataclasses import fields

    from usegan.settings import Settings

    named = set(re.findall(r"USEGAN_([A-Z][A-Z0-9_]*)", (ROOT / "README.md").read_text(encoding="utf-8")))
    assert {"DATA_DIR", "MODEL_DIR", "HOST", "PORT"} <= named  # the README does name settings
    known = {f.name for f in fields(Settings)}
    not_settings = sorted(n for n in named if n.lower() not in known and n != "CONFIG")  # CONFIG: the TOML path
    assert not not_settings, f"README names USEGAN_{not_settings}, which usegan.settings does not read"
    source = _code_reading_settings()
    unread = sorted(n for n in named if n != "CONFIG" and not re.search(rf"\bsettings\.{n.lower()}\b", source))
    assert not unread, f"README names USEGAN_{unread}, but no module reads settings.{unread[0].lower()}"


def test_every_setting_is_read_somewhere():
    from dataclasses import fields

    from usegan.settings import Settings

    source = _code_reading_settings()
    dead = sorted(f.name for f in fields(Settings) if not re.search(rf"\bsettings\.{f.name}\b", source))
    assert not dead, f"settings no module reads (remove them or use them): {dead}"
