"""Recomputing stored costs after a price change (``manage.py reprice_runs``).

A batch job over stored usage, never a second write path: each batch is one
short transaction that locks its runs (as ingest does), reads them fresh,
prices them with the same code as ingest and writes the costs that changed.
The rollup triggers carry every change into the hourly sums, and the roots of
the touched traces get their trace cost again. Client-sent costs stay as sent.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction

from runs.ingest import extract, store
from runs.pricing import prices
from runs.pricing.cost import CLIENT, price_usage

BATCH_SIZE = 1000
_COLUMNS = (
    "id, trace_id, outputs, extra, model_name, model_provider, "
    "prompt_cost, completion_cost, total_cost, price_source"
)


@dataclass
class RepriceResult:
    scanned: int = 0
    changed: int = 0
    priced: int = 0
    unpriced: int = 0


def _where(model: str | None, since: datetime | None) -> tuple[str, list[Any]]:
    # LLM runs with tokens: the only runs with a cost of their own.
    clauses = ["run_type = 'llm'", "total_tokens > 0", "price_source <> %s"]
    params: list[Any] = [CLIENT]
    if model:
        clauses.append("model_name = %s")
        params.append(model)
    if since is not None:
        clauses.append("start_time >= %s")
        params.append(
            since if connection.vendor == "postgresql" else store._sqlite_time(since)
        )
    return " AND ".join(clauses), params


def _id_param(value: uuid.UUID) -> Any:
    return value if connection.vendor == "postgresql" else value.hex


def count_runs(*, model: str | None = None, since: datetime | None = None) -> int:
    where, params = _where(model, since)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {store.TABLE} WHERE {where}", params)  # noqa: S608
        return cursor.fetchone()[0]


def _next_ids(
    after: uuid.UUID | None, where: str, params: list[Any], size: int
) -> list[uuid.UUID]:
    condition = where
    args = list(params)
    if after is not None:
        condition += " AND id > %s"
        args.append(_id_param(after))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {store.TABLE} WHERE {condition} ORDER BY id LIMIT %s",  # noqa: S608
            [*args, size],
        )
        return [store._from_db_uuid(value) for (value,) in cursor.fetchall()]


def _reprice_batch(ids: list[uuid.UUID], result: RepriceResult) -> None:
    with transaction.atomic():
        store.lock_runs(ids)
        updates: list[list[Any]] = []
        traces: set[uuid.UUID] = set()
        with connection.cursor() as cursor:
            for condition, chunk in store.id_chunks("id", ids):
                cursor.execute(
                    f"SELECT {_COLUMNS} FROM {store.TABLE} WHERE {condition}",  # noqa: S608
                    chunk,
                )
                for row in cursor.fetchall():
                    rid, trace, outputs, extra, model, provider, *old, source = row
                    if source == CLIENT:  # sent since the ids were listed
                        continue
                    usage = extract.usage(
                        store._from_db_json(outputs), store._from_db_json(extra)
                    )
                    cost = price_usage(usage, model, provider) if usage else None
                    new = list(cost[:3]) if cost else [None, None, None]
                    new_source = cost.source if cost else ""
                    result.scanned += 1
                    if cost is None:
                        result.unpriced += 1
                    else:
                        result.priced += 1
                    if new != old or new_source != source:
                        rid = store._from_db_uuid(rid)
                        updates.append([*new, new_source, _id_param(rid)])
                        traces.add(store._from_db_uuid(trace))
            if updates:
                cursor.executemany(
                    f"UPDATE {store.TABLE} SET prompt_cost = %s, "  # noqa: S608
                    "completion_cost = %s, total_cost = %s, price_source = %s "
                    "WHERE id = %s",
                    updates,
                )
        store.update_trace_costs(traces)
        result.changed += len(updates)


def reprice_runs(
    *,
    model: str | None = None,
    since: datetime | None = None,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[RepriceResult], None] | None = None,
) -> RepriceResult:
    """Recompute the cost of stored LLM runs (of ``model``, since ``since``)."""
    prices.invalidate()  # the newest local prices, whatever this process cached
    where, params = _where(model, since)
    result = RepriceResult()
    after: uuid.UUID | None = None
    while ids := _next_ids(after, where, params, batch_size):
        _reprice_batch(ids, result)
        after = ids[-1]
        if progress is not None:
            progress(result)
    return result
