"""The store is the only place that speaks SQL: no module outside ``usegan/store`` holds SQL against the schema or
touches a private name of the store (``store._cursor()``, ``store._con`` ...); they use its public methods,
``store.transaction()`` and ``store.audit()``."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from usegan.store import Store
from usegan.store.schema import MIGRATIONS

ROOT = Path(__file__).resolve().parent.parent
SCANNED = [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py"))]
for folder in ("usegan", "bench", "scripts"):
    SCANNED += [p for p in sorted((ROOT / folder).rglob("*.py")) if "usegan/store/" not in p.as_posix()]


def _tables() -> set[str]:
    statements = " ".join(s for m in MIGRATIONS for s in m.statements)
    return set(re.findall(r"CREATE TABLE (?:IF NOT EXISTS )?(\w+)", statements)) | {"schema_version"}


def _store_private_names(tmp_path: Path) -> set[str]:
    names = {n for cls in Store.__mro__ if cls.__module__.startswith("usegan.store") for n in vars(cls)}
    with Store(tmp_path / "probe.duckdb", tmp_path / "images") as store:
        names |= set(vars(store))
        for component in (store.registry, store.training_pairs, store.read_models):
            names |= set(vars(component)) | set(vars(type(component)))
    names |= {"_write", "_audit"}  # the old names of transaction() and audit()
    return {n for n in names if n.startswith("_") and not n.startswith("__")}


def _sql_pattern(tables: set[str]) -> re.Pattern:
    t = "|".join(sorted(tables))
    return re.compile(
        rf"\b(?:FROM|JOIN|INTO|UPDATE|TABLE)\s+(?:{t})\b"  # SQL keywords as SQL is written here: upper case
        rf"|(?is:\bselect\b[^;]{{0,400}}?\bfrom\s+(?:{t})\b)"  # any case, as a query
        rf"|(?i:\b(?:insert\s+into|delete\s+from)\s+(?:{t})\b|\bupdate\s+(?:{t})\s+set\b)"
    )


def violations(source: str, tables: set[str], private: set[str]) -> list[str]:
    """``"line: what"`` for each SQL string against the schema and each private store name used on something other
    than ``self`` / ``cls``."""
    sql = _sql_pattern(tables)
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and sql.search(node.value):
            found.append(f"{node.lineno}: SQL {sql.search(node.value).group(0)!r}")
        elif isinstance(node, ast.Attribute) and node.attr in private:
            owner = node.value
            if not (isinstance(owner, ast.Name) and owner.id in ("self", "cls")):
                found.append(f"{node.lineno}: private store name .{node.attr}")
    return sorted(found, key=lambda text: int(text.split(":")[0]))


def test_the_checker_catches_sql_and_private_store_calls(tmp_path):
    tables, private = _tables(), _store_private_names(tmp_path)
    assert {"cases", "reviews", "audit", "training_pairs"} <= tables
    assert {"_cursor", "_con", "_write_lock"} <= private
    planted = (
        'rows = store.query("SELECT c.case_id FROM cases c")\n'
        "with store._cursor() as cur:\n"
        "    cur.execute('update reviews set status = ?', ['x'])\n"
        "self._cursor()  # a class's own private name is its business\n"
        'note = "new cases from uploads"  # prose, not SQL\n'
    )
    found = violations(planted, tables, private)
    assert [line.split(":")[0] for line in found] == ["1", "2", "3"], found


@pytest.mark.parametrize("path", SCANNED, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_sql_or_private_store_access_outside_the_store(path, tmp_path):
    found = violations(path.read_text(encoding="utf-8"), _tables(), _store_private_names(tmp_path))
    assert not found, f"{path.relative_to(ROOT)}: " + "; ".join(found)
