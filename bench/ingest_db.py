"""A throwaway database for bench/ingest.py, and its raw insert ceiling."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import orjson
import psycopg

ROOT = Path(__file__).resolve().parent.parent
COLUMNS = (
    "id trace_id parent_run_id dotted_order project_id name run_type status "
    "start_time end_time inputs outputs error extra events serialized tags "
    "reference_example_id prompt_tokens completion_tokens total_tokens model_name "
    "model_provider first_token_time created_at updated_at"
).split()
JSON = {"inputs", "outputs", "extra", "events", "serialized", "tags"}


class BenchDatabase:
    def __init__(self, url: str, workdir: Path, *, pg_admin: str | None = None):
        self.url = url
        self.workdir = workdir
        self.pg_admin = pg_admin
        self.vendor = "postgresql" if pg_admin else "sqlite"

    @classmethod
    @contextmanager
    def fresh(cls, url: str, workdir: Path) -> Iterator[BenchDatabase]:
        """A new, migrated database; a PostgreSQL one is dropped afterwards."""
        if url.startswith("sqlite"):
            db = cls(f"sqlite:///{workdir / 'bench.db'}", workdir)
        else:
            parts = urlsplit(url.replace("+asyncpg", "").replace("+psycopg", ""))
            name = f"agentspy_bench_{os.getpid()}"
            admin = urlunsplit(parts._replace(scheme="postgresql"))
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {name}")
                conn.execute(f"CREATE DATABASE {name}")
            db = cls(
                urlunsplit(parts._replace(scheme="postgres", path=f"/{name}")),
                workdir,
                pg_admin=admin,
            )
        try:
            subprocess.run(
                [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
                cwd=ROOT,
                env={**os.environ, "DATABASE_URL": db.url},
                check=True,
            )
            yield db
        finally:
            if db.pg_admin:
                with psycopg.connect(db.pg_admin, autocommit=True) as conn:
                    conn.execute(
                        f"DROP DATABASE IF EXISTS {urlsplit(db.url).path[1:]} "
                        "WITH (FORCE)"
                    )
            shutil.rmtree(workdir, ignore_errors=True)

    def prepare(self, *, bare: bool) -> None:
        """Create the bench project; with ``bare``, drop full-text search upkeep.

        ``bare`` removes the triggers (SQLite) and GIN indexes (PostgreSQL) on
        runs_run, to measure what search indexing costs ingestion.
        """
        with self.connect() as conn:
            if self.pg_admin:
                conn.execute(
                    "INSERT INTO runs_project (id, name, description, metadata, "
                    "created_at, agent_id, agent_environment) "
                    "VALUES (gen_random_uuid(), 'bench', '', '{}', now(), '', '')"
                )
                found = conn.execute(
                    "SELECT indexname FROM pg_indexes WHERE tablename = 'runs_run' "
                    "AND indexdef ILIKE '%USING gin%'"
                ).fetchall()
                statements = [f"DROP INDEX {name}" for (name,) in found]
            else:
                conn.execute(
                    "INSERT INTO runs_project (id, name, description, metadata, "
                    "created_at, agent_id, agent_environment) "
                    "VALUES (?, 'bench', '', '{}', '2026-01-01', '', '')",
                    (uuid.uuid4().hex,),
                )
                found = conn.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger' "
                    "AND tbl_name = 'runs_run'"
                ).fetchall()
                statements = [f"DROP TRIGGER {name}" for (name,) in found]
            for statement in statements if bare else []:
                conn.execute(statement)
            if self.pg_admin:
                conn.commit()

    def describe(self) -> str:
        return f"{self.vendor} ({self.url})"

    @contextmanager
    def connect(self) -> Iterator[object]:
        if self.pg_admin:
            with psycopg.connect(self.url.replace("postgres://", "postgresql://")) as c:
                yield c
        else:
            conn = sqlite3.connect(self.url.removeprefix("sqlite:///"), timeout=30)
            conn.isolation_level = None
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            try:
                yield conn
            finally:
                conn.close()

    def _id(self, value: uuid.UUID | None) -> object:
        if value is None:
            return None
        return value if self.pg_admin else value.hex

    def _time(self, value: datetime | None) -> object:
        if value is None or self.pg_admin:
            return value
        return value.replace(tzinfo=None).isoformat(sep=" ")

    def count_runs(self) -> int:
        with self.connect() as conn:
            return conn.execute("SELECT count(*) FROM runs_run").fetchone()[0]

    def check_stored(self, ids: set[uuid.UUID]) -> int:
        """How many of these runs are missing or stored incomplete."""
        with self.connect() as conn:
            rows = conn.execute(
                "SELECT id FROM runs_run WHERE status = 'success' "
                "AND outputs IS NOT NULL AND end_time IS NOT NULL "
                # Own tokens are an LLM run's only (chains echo their usage).
                "AND total_tokens = CASE WHEN run_type = 'llm' THEN 1020 ELSE 0 END "
                "AND dotted_order <> ''"
            ).fetchall()
        complete = {
            r[0] if isinstance(r[0], uuid.UUID) else uuid.UUID(r[0]) for r in rows
        }
        return len(ids - complete)

    def raw_insert_rate(self, rows: list[dict], *, batch: int) -> float:
        """Rows/s of a plain executemany of finished rows, one commit per batch."""
        with self.connect() as conn:
            project = conn.execute(
                "SELECT id FROM runs_project WHERE name = 'bench'"
            ).fetchone()[0]
        params = [self._params(row, project) for row in rows]
        marks = ", ".join(
            ("%s::jsonb" if c in JSON else "%s") if self.pg_admin else "?"
            for c in COLUMNS
        )
        sql = f"INSERT INTO runs_run ({', '.join(COLUMNS)}) VALUES ({marks})"
        with self.connect() as conn:
            began = time.perf_counter()
            for start in range(0, len(params), batch):
                if self.pg_admin:
                    with conn.cursor() as cursor:
                        cursor.executemany(sql, params[start : start + batch])
                    conn.commit()
                else:
                    conn.execute("BEGIN")
                    conn.executemany(sql, params[start : start + batch])
                    conn.execute("COMMIT")
            took = time.perf_counter() - began
        return len(params) / took

    def _params(self, row: dict, project: object) -> tuple:
        values = {
            **row,
            "project_id": project,
            "status": "success",
            "error": None,
            "serialized": None,
            "reference_example_id": None,
            "prompt_tokens": 600,
            "completion_tokens": 420,
            "total_tokens": 1020,
            "model_name": "bench-model",
            "model_provider": "x",
            "first_token_time": None,
            "created_at": row["end_time"],
            "updated_at": row["end_time"],
        }
        out = []
        for column in COLUMNS:
            value = values[column]
            if column in JSON:
                value = orjson.dumps(value).decode()
            elif column.endswith("_id") or column == "id":
                value = self._id(value) if column != "project_id" else value
            elif column.endswith("_time") or column.endswith("_at"):
                value = self._time(value)
            out.append(value)
        return tuple(out)
