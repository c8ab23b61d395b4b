"""The suite's PostgreSQL databases: a seeded template and a fresh copy per scenario.

Migrating and seeding take half a minute, so they run once, into the template database; each
scenario gets ``CREATE DATABASE … TEMPLATE`` (a second). Databases of this suite are dropped at
the start of a run (left over from an interrupted one) and at its end. Databases named ``test``
or ``test_*`` are refused.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql

from benchmarks.load.config import RunConfig


def _check(name: str) -> None:
    if name == "test" or name.startswith("test_") or name in ("postgres", "template0", "template1"):
        raise ValueError(f"the load suite never touches the database {name!r}")


@contextmanager
def connect(config: RunConfig, dbname: str = "postgres") -> Iterator[psycopg.Connection]:
    """An autocommit connection (``CREATE``/``DROP DATABASE`` cannot run in a transaction)."""
    conn = psycopg.connect(
        host=config.pg_host,
        port=config.pg_port,
        user=config.pg_user,
        dbname=dbname,
        autocommit=True,
        connect_timeout=10,
    )
    try:
        yield conn
    finally:
        conn.close()


def drop(config: RunConfig, name: str) -> None:
    """Drop a database of the suite if it exists (its connections are terminated first)."""
    _check(name)
    with connect(config) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def create(config: RunConfig, name: str, template: str | None = None) -> None:
    """Create a database, empty or as a copy of ``template``."""
    _check(name)
    query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template is not None:
        _check(template)
        query = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
            sql.Identifier(name), sql.Identifier(template)
        )
    with connect(config) as conn:
        conn.execute(query)


def terminate_connections(config: RunConfig, name: str) -> int:
    """``pg_terminate_backend`` every other connection to ``name``; returns how many."""
    _check(name)
    with connect(config) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        ).fetchall()
    return sum(1 for (done,) in rows if done)


def stored_impressions(config: RunConfig) -> dict[int | None, int]:
    """Impressions in ``DailyCount`` (what the flush wrote), per page id."""
    with connect(config, config.database) as conn:
        rows = conn.execute(
            "SELECT page_id, SUM(count) FROM personalize_dailycount "
            "WHERE metric = 'imp' GROUP BY page_id"
        ).fetchall()
    return {page_id: int(total) for page_id, total in rows}
