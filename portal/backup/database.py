"""The database part of a backup: PostgreSQL through its own tools (pg_dump's custom format,
pg_restore), SQLite through its online backup API. Both copy a consistent snapshot while the
application keeps running."""

import os
import sqlite3
import subprocess
from pathlib import Path

from django.db import connection

from .sealed import ArchiveRefused


def engine() -> str:
    return connection.vendor  # "postgresql" or "sqlite"


def dump_name() -> str:
    return "database.pgdump" if engine() == "postgresql" else "database.sqlite3"


def _pg_environment() -> tuple[list[str], dict[str, str]]:
    db = connection.settings_dict
    args = ["--host", str(db["HOST"] or "localhost"), "--port", str(db["PORT"] or 5432)]
    args += ["--username", str(db["USER"] or "postgres")]
    env = {**os.environ}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    return args, env


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise ArchiveRefused(f"{what} failed: {done.stderr.strip()[-500:]}")


def dump_to(path: Path) -> None:
    """A snapshot of the configured database into the file `path`."""
    if engine() == "postgresql":
        args, env = _pg_environment()
        command = ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", *args]
        command += ["--file", str(path), str(connection.settings_dict["NAME"])]
        _run(command, env, "pg_dump")
        return
    connection.ensure_connection()
    target = sqlite3.connect(path)
    try:
        connection.connection.backup(target)
    finally:
        target.close()


def is_empty() -> bool:
    """No table at all: a database created empty, never migrated."""
    return not connection.introspection.table_names()


def load_from(path: Path) -> None:
    """Rebuild the configured (empty) database from a dump written by dump_to."""
    if engine() == "postgresql":
        args, env = _pg_environment()
        command = ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error"]
        command += [
            "--single-transaction",
            *args,
            "--dbname",
            str(connection.settings_dict["NAME"]),
        ]
        _run(command + [str(path)], env, "pg_restore")
        return
    connection.ensure_connection()
    source = sqlite3.connect(path)
    try:
        source.backup(connection.connection)
    finally:
        source.close()
    connection.close()  # the next query sees the restored file
