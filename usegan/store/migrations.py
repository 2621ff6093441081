"""Apply the ordered migrations of :mod:`usegan.store.schema` to a DuckDB connection.

``schema_version`` holds one row per applied migration. Each migration runs in its own transaction together with
its ``schema_version`` row, so an interrupted upgrade leaves the file at the previous version, never half-way.
"""

from __future__ import annotations

import datetime as dt

from usegan.store.errors import StoreError
from usegan.store.schema import MIGRATIONS, SCHEMA_VERSION, Migration


def current_version(con) -> int:
    """The schema version of the open database: 0 for an empty file."""
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version' "
        "AND table_schema = 'main' AND table_catalog = current_database()"
    ).fetchone()[0]
    if not exists:
        return 0
    return int(con.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()[0])


def migrate(con, target: int | None = None, migrations: tuple[Migration, ...] = MIGRATIONS) -> list[int]:
    """Upgrade to ``target`` (default: the newest); return the versions applied, in order.

    Refuses a database newer than this code (opening it could silently drop data a newer version relies on).
    """
    target = SCHEMA_VERSION if target is None else target
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TIMESTAMP NOT NULL, "
        "description VARCHAR NOT NULL)"
    )
    have = current_version(con)
    newest = max(m.version for m in migrations)
    if have > newest:
        raise StoreError(
            f"database schema version {have} is newer than this usegan understands ({newest}): upgrade usegan"
        )
    applied = []
    for migration in sorted(migrations, key=lambda m: m.version):
        if migration.version <= have or migration.version > target:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            for statement in migration.statements:
                con.execute(statement)
            con.execute(
                "INSERT INTO schema_version VALUES (?, ?, ?)",
                [migration.version, dt.datetime.now(dt.UTC).replace(tzinfo=None), migration.description],
            )
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        applied.append(migration.version)
    return applied
