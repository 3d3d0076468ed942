"""One line of what a run was asked and what it answered, for a page of runs.

The line is the first non-blank line of ``turn_text``'s user input and final
answer. Bodies can be megabytes, so only an excerpt of each is read, kept to
its beginning and to the end of its long list (a conversation's last message
is what matters), each database in its cheapest way:

* PostgreSQL: the body is decompressed once and cut in SQL: its first
  ``OBJECT_KEYS`` keys, top-level strings to ``STRING_CHARS`` characters,
  top-level arrays to the items in their first ``HEAD_BYTES`` and last
  ``TAIL_BYTES`` (always the last item), then ``EXCERPT_CHARS`` characters
  of text. (Turning a whole 1 MB jsonb into text costs more than
  decompressing it.)
* SQLite: the first ``EXCERPT_CHARS`` characters of the stored text. A body
  cut inside a list (a long conversation) is read whole in a second query:
  SQLite has no structural read cheaper than parsing the whole body, and
  its last message is the one that counts.

Excerpts are closed into documents by ``json_excerpt``. Lines are cached by
run id and ``updated_at``, which every ingest write moves: the live traces
page asks again every few seconds.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import orjson
from django.core.cache import cache
from django.db import connection

from runs.models import Run
from runs.query.json_excerpt import Excerpt, read_excerpt
from runs.query.turn_text import final_answer, user_input

EXCERPT_CHARS = 65_536
STRING_CHARS = 2_000
OBJECT_KEYS = 50
HEAD_BYTES = 8_192
TAIL_BYTES = 32_768
LIST_ITEMS = 20
# The longest line kept (a page shortens it further and shows this on hover).
LINE_CHARS = 1_000
CACHE_SECONDS = 600
COLUMNS = ("inputs", "outputs")


@dataclass(frozen=True)
class TurnLine:
    """The first line of a run's user input and of its final answer ("" if none)."""

    input: str
    output: str


def _typed(value: str, kind: str) -> str:
    # Set-returning functions refuse the wrong type even in a branch not taken.
    return f"(CASE WHEN jsonb_typeof({value}) = '{kind}' THEN {value} END)"


def _pg_capped(value: str) -> str:
    array = _typed(value, "array")
    return (
        f"(CASE jsonb_typeof({value}) "
        f"WHEN 'string' THEN to_jsonb(left({value} #>> '{{}}', {STRING_CHARS})) "
        "WHEN 'array' THEN (SELECT jsonb_agg(k.value ORDER BY k.n) FROM (SELECT "
        "a.value, a.n, sum(pg_column_size(a.value)) OVER (ORDER BY a.n) AS head, "
        "sum(pg_column_size(a.value)) OVER (ORDER BY a.n DESC) AS tail FROM "
        f"jsonb_array_elements({array}) WITH ORDINALITY AS a(value, n)) AS k "
        f"WHERE k.head <= {HEAD_BYTES} OR k.tail <= {TAIL_BYTES} "
        f"OR k.n = jsonb_array_length({array})) "
        f"ELSE {value} END)"
    )


def _pg_excerpt(value: str) -> str:
    return (
        f"left((CASE jsonb_typeof({value}) WHEN 'object' THEN "
        f"(SELECT jsonb_object_agg(e.key, {_pg_capped('e.value')}) FROM "
        f"(SELECT * FROM jsonb_each({_typed(value, 'object')}) LIMIT {OBJECT_KEYS})"
        f" AS e) ELSE {_pg_capped(value)} END)::text, {EXCERPT_CHARS})"
    )


def _rows(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _pg_excerpts(ids: list[uuid.UUID]) -> dict[uuid.UUID, tuple[Excerpt, Excerpt]]:
    marks = ", ".join(["%s"] * len(ids))
    # "#> '{}'" hands the outer query a decompressed copy: each later use of
    # a plain column would decompress the body again.
    rows = _rows(
        f"SELECT s.id, {_pg_excerpt('s.i')}, {_pg_excerpt('s.o')} FROM "
        "(SELECT id, inputs #> '{}' AS i, outputs #> '{}' AS o "
        f"FROM {Run._meta.db_table} WHERE id IN ({marks}) OFFSET 0) AS s",
        list(ids),
    )
    return {run_id: (_read(inputs), _read(outputs)) for run_id, inputs, outputs in rows}


def _read(text: str | None) -> Excerpt:
    return Excerpt(None) if text is None else read_excerpt(text)


def _sqlite_excerpts(ids: list[uuid.UUID]) -> dict[uuid.UUID, tuple[Excerpt, Excerpt]]:
    marks = ", ".join(["%s"] * len(ids))
    rows = _rows(
        f"SELECT id, substr(inputs, 1, %s), substr(outputs, 1, %s) "
        f"FROM {Run._meta.db_table} WHERE id IN ({marks})",
        [EXCERPT_CHARS, EXCERPT_CHARS, *(i.hex for i in ids)],
    )
    found = {uuid.UUID(str(run_id)): [_read(i), _read(o)] for run_id, i, o in rows}
    for column, name in enumerate(COLUMNS):
        cut = [run_id.hex for run_id, pair in found.items() if pair[column].in_array]
        if cut:
            for run_id, body in _whole(name, cut):
                found[uuid.UUID(str(run_id))][column] = Excerpt(orjson.loads(body))
    return {run_id: (i, o) for run_id, (i, o) in found.items()}


def _whole(column: str, ids: list[str]) -> list[tuple[Any, bytes]]:
    """Bodies cut inside a list, read whole: their last item may be what counts.

    As bytes (no text decoding) into orjson: cheaper than SQLite's own JSON
    functions, which parse the body as well.
    """
    marks = ", ".join(["%s"] * len(ids))
    return _rows(
        f"SELECT id, CAST({column} AS BLOB) FROM {Run._meta.db_table} "
        f"WHERE id IN ({marks})",
        ids,
    )


_FIRST_LINE = re.compile(r"\s*([^\r\n]*)")


def first_line(text: str) -> str:
    """The first non-blank line, its runs of whitespace made one space."""
    line = _FIRST_LINE.match(text[: LINE_CHARS * 4])[1]  # always matches
    return " ".join(line.split())[:LINE_CHARS]


def _trimmed(value: Any) -> Any:
    """Top-level lists cut to their first and last ``LIST_ITEMS`` items: the
    rule reads each message of a list, and the last ones are those that count."""

    def cut(items: Any) -> Any:
        if not isinstance(items, list) or len(items) <= 2 * LIST_ITEMS:
            return items
        return items[:LIST_ITEMS] + items[-LIST_ITEMS:]

    if isinstance(value, dict):
        return {key: cut(item) for key, item in value.items()}
    return cut(value)


def _line(value: Any, read: Callable[[Any], str]) -> str:
    if value in (None, {}, [], ""):
        return ""
    return first_line(read(_trimmed(value)))


def _key(run_id: uuid.UUID, updated: Any) -> str:
    stamp = updated.timestamp() if updated is not None else ""
    return f"agentspy:turn-line:{run_id}:{stamp}"


def turn_lines(run_ids: Iterable[str | uuid.UUID]) -> dict[str, TurnLine]:
    """The ``TurnLine`` of each of these runs, by id as text (missing runs left out)."""
    ids = [uuid.UUID(str(i)) for i in run_ids]
    if not ids:
        return {}
    stamps = Run.objects.filter(id__in=ids).values_list("id", "updated_at")
    keys = {run_id: _key(run_id, updated) for run_id, updated in stamps}
    cached = cache.get_many(list(keys.values()))
    lines = {str(i): cached[key] for i, key in keys.items() if key in cached}
    missing = [i for i, key in keys.items() if key not in cached]
    if not missing:
        return lines
    read = _pg_excerpts if connection.vendor == "postgresql" else _sqlite_excerpts
    fresh = {}
    for run_id, (inputs, outputs) in read(missing).items():
        line = TurnLine(
            input=_line(inputs.value, user_input),
            output=_line(outputs.value, final_answer),
        )
        lines[str(run_id)] = fresh[keys[run_id]] = line
    cache.set_many(fresh, CACHE_SECONDS)
    return lines
