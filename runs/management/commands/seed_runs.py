"""manage.py seed_runs: a realistic run store for benchmarks and demos.

Traces of about ten runs (an agent chain calling retrievers, LLMs, tools and
parsers, nested up to four levels), spread over several projects and the last
``--days`` days, with errors, token counts, models and text in several
languages. Rows go through the ingest store's raw upsert (one transaction per
batch), so the database's own indexes and triggers see exactly what ingestion
writes. Deterministic for a given ``--seed``.
"""

from __future__ import annotations

import random
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone

from runs.ingest.extract import Usage
from runs.ingest.normalize import segment
from runs.ingest.store import update_trace_costs, upsert_runs
from runs.models import Project
from runs.pricing.cost import price_usage
from runs.query import rollups

PROJECTS = [
    ("support-bot", 40),
    ("search-agent", 25),
    ("code-review", 15),
    ("data-pipeline", 12),
    ("kundenservice", 8),
]
MODELS = [
    ("gpt-4o", "openai"),
    ("gpt-4o-mini", "openai"),
    ("claude-sonnet-4", "anthropic"),
    ("llama-3.1-70b", "meta"),
    ("qwen2.5-72b", "alibaba"),
]
SENTENCES = [
    "How do I reset my password after the account was locked?",
    "Summarise the quarterly revenue report for the board meeting.",
    "Which orders shipped late last week and why?",
    "Où se trouve le café le plus proche de la gare?",
    "Pourquoi ma facture est-elle plus élevée ce mois-ci?",
    "Wie kann ich meine Bestellung stornieren und das Geld zurückbekommen?",
    "¿Cuál es el estado de mi pedido número 4821?",
    "今天北京的天气怎么样？需要带伞吗？",
    "请帮我总结这份合同的主要条款。",
    "明日の会議の議題をまとめてください。",
    "Какие документы нужны для возврата товара?",
    "Translate the release notes into Portuguese and Italian.",
    "Find all invoices over 10,000 EUR that are still unpaid.",
    "Generate a SQL query that counts active users per region.",
]
ANSWERS = [
    "You can reset it from the login page; a link is valid for 30 minutes.",
    "Revenue grew 12% quarter over quarter, driven by the enterprise tier.",
    "Three orders shipped late because of a carrier strike in Rotterdam.",
    "Le café le plus proche est à deux minutes, rue de la République.",
    "Ihre Bestellung wurde storniert; die Erstattung dauert 3-5 Werktage.",
    "北京今天多云转小雨，建议带伞。",
    "合同的主要条款包括付款期限、保密义务和违约责任。",
    "El pedido 4821 está en camino y llegará el jueves.",
    "SELECT region, count(*) FROM users WHERE active GROUP BY region;",
]
ERRORS = [
    "RateLimitError: Rate limit reached for requests per minute",
    "TimeoutError: tool call exceeded 30 seconds",
    "ValidationError: output did not match the expected JSON schema",
    "ConnectionError: vector store unreachable",
]
TOOLS = ["search_orders", "get_weather", "sql_query", "send_email", "web_search"]


class TraceMaker:
    """Builds the rows of one trace (root first, children in start order)."""

    def __init__(self, rng: random.Random, projects: list[tuple[uuid.UUID, int]]):
        self.rng = rng
        self.project_ids = [p for p, _ in projects]
        self.weights = [w for _, w in projects]

    def _row(self, **values: Any) -> dict[str, Any]:
        values.setdefault("created_at", values["start_time"])
        values.setdefault("updated_at", values["end_time"] or values["start_time"])
        return values

    def _text(self) -> str:
        return self.rng.choice(SENTENCES)

    def _child(self, parent: dict[str, Any], start: datetime, kind: str) -> dict:
        rng = self.rng
        rid = uuid.uuid4()
        duration = timedelta(milliseconds=rng.lognormvariate(5.5, 1.0))
        row: dict[str, Any] = {
            "id": rid,
            "trace_id": parent["trace_id"],
            "parent_run_id": parent["id"],
            "dotted_order": f"{parent['dotted_order']}.{segment(start, rid)}",
            "project_id": parent["project_id"],
            "run_type": kind,
            "status": "success",
            "start_time": start,
            "end_time": start + duration,
            "tags": parent["tags"],
            "extra": {"metadata": parent["extra"]["metadata"]},
        }
        if kind == "llm":
            model, provider = rng.choice(MODELS)
            prompt, completion = rng.randint(50, 3000), rng.randint(10, 800)
            row.update(
                name=f"Chat {model}",
                model_name=model,
                model_provider=provider,
                prompt_tokens=prompt,
                completion_tokens=completion,
                total_tokens=prompt + completion,
                inputs={
                    "messages": [
                        {"role": "system", "content": "You are a helpful assistant."},
                        {"role": "user", "content": self._text()},
                    ]
                },
                outputs={
                    "generations": [{"text": rng.choice(ANSWERS)}],
                    "llm_output": {
                        "token_usage": {
                            "prompt_tokens": prompt,
                            "completion_tokens": completion,
                            "total_tokens": prompt + completion,
                        },
                        "model_name": model,
                    },
                },
            )
            row["extra"]["invocation_params"] = {"model": model, "temperature": 0.2}
        elif kind == "tool":
            tool = rng.choice(TOOLS)
            row.update(
                name=tool,
                inputs={"input": f"{tool}(customer='cust-{rng.randint(1, 50000)}')"},
                outputs={"output": rng.choice(ANSWERS)},
            )
        elif kind == "retriever":
            row.update(
                name="VectorStoreRetriever",
                inputs={"query": self._text()},
                outputs={
                    "documents": [
                        {"page_content": rng.choice(ANSWERS), "metadata": {"id": i}}
                        for i in range(3)
                    ]
                },
            )
        else:
            row.update(
                name=rng.choice(["OutputParser", "PromptTemplate", "RunnableSequence"]),
                inputs={"input": self._text()},
                outputs={"output": rng.choice(ANSWERS)},
            )
        return self._row(**row)

    def trace(
        self,
        start: datetime,
        size: int,
        thread: str = "",
        project_id: uuid.UUID | None = None,
    ) -> list[dict[str, Any]]:
        rng = self.rng
        rid = uuid.uuid4()
        project_id = project_id or rng.choices(self.project_ids, self.weights)[0]
        root = {
            "id": rid,
            "trace_id": rid,
            "parent_run_id": None,
            "dotted_order": segment(start, rid),
            "project_id": project_id,
            "name": rng.choice(["AgentExecutor", "RetrievalQA", "ChatPipeline"]),
            "run_type": "chain",
            "status": "success",
            "start_time": start,
            "end_time": None,
            "tags": rng.choice([[], ["prod"], ["prod", "v2"], ["staging"]]),
            "extra": {"metadata": {"user_id": f"user-{rng.randint(1, 5000)}"}},
            "inputs": {"question": self._text()},
        }
        if thread:
            root["extra"]["metadata"]["thread_id"] = thread
        rows = [root]
        parents = [root]
        at = start
        kinds = ["llm", "llm", "tool", "retriever", "chain"]
        for _ in range(size - 1):
            at += timedelta(milliseconds=rng.randint(1, 400))
            parent = rng.choice(parents)
            child = self._child(parent, at, rng.choice(kinds))
            rows.append(child)
            if child["run_type"] == "chain" and child["dotted_order"].count(".") < 3:
                parents.append(child)
        end = max(r["end_time"] for r in rows[1:]) if size > 1 else start
        root["end_time"] = end + timedelta(milliseconds=rng.randint(1, 50))
        root["updated_at"] = root["end_time"]
        root["created_at"] = start
        root["outputs"] = {"output": rng.choice(ANSWERS)}
        if rng.random() < 0.06 and size > 1:
            failed = rng.choice(rows[1:])
            failed["status"] = "error"
            failed["error"] = rng.choice(ERRORS)
            failed["outputs"] = None
            if rng.random() < 0.5:
                root["status"] = "error"
                root["error"] = failed["error"]
        if rng.random() < 0.01:
            root["status"], root["end_time"], root["outputs"] = "running", None, None
        return rows


class Command(BaseCommand):
    help = (
        "Seed realistic traces (~10 runs each) through the raw ingest store: "
        "--runs 1000000 takes minutes. Add --big-trace N for one N-run trace."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--runs", type=int, default=100_000)
        parser.add_argument("--days", type=int, default=30)
        parser.add_argument("--batch-size", type=int, default=2000)
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--big-trace", type=int, default=0)
        parser.add_argument(
            "--threads",
            type=int,
            default=0,
            help="Spread the traces over this many conversation threads.",
        )
        parser.add_argument(
            "--long-thread",
            type=int,
            default=0,
            help="Add one thread of this many turns (traces), the latest.",
        )

    def handle(
        self,
        *,
        runs: int,
        days: int,
        batch_size: int,
        seed: int,
        big_trace: int,
        threads: int = 0,
        long_thread: int = 0,
        **options: Any,
    ) -> None:
        rng = random.Random(seed)
        uuid.uuid4 = lambda: uuid.UUID(int=rng.getrandbits(128), version=4)  # type: ignore[assignment]
        projects = []
        for name, weight in PROJECTS:
            project, _ = Project.objects.get_or_create(name=name)
            projects.append((project.id, weight))
        maker = TraceMaker(rng, projects)
        now = timezone.now()
        traces = max(1, runs // 10)
        step = timedelta(days=days) / traces
        began = time.monotonic()
        done = 0
        pending: list[dict[str, Any]] = []
        at = now - timedelta(days=days)
        while done + len(pending) < runs:
            at += step * rng.uniform(0.5, 1.5)
            size = min(rng.randint(5, 15), runs - done - len(pending))
            # Drawn only when asked for, so older seeds give the same store.
            thread = f"thread-{rng.randrange(threads)}" if threads else ""
            pending.extend(maker.trace(min(at, now), size, thread))
            if len(pending) >= batch_size:
                done += self._write(pending)
                pending = []
                rate = done / (time.monotonic() - began)
                self.stdout.write(
                    f"\r{done:,}/{runs:,} runs ({rate:,.0f}/s)", ending=""
                )
                self.stdout.flush()
        done += self._write(pending)
        if big_trace:
            rows = maker.trace(now - timedelta(minutes=5), big_trace)
            for start in range(0, len(rows), batch_size):
                done += self._write(rows[start : start + batch_size])
            self.stdout.write(f"\nbig trace: {rows[0]['id']} ({len(rows):,} runs)")
        if long_thread:
            rows = []
            for turn in range(long_thread):
                at = now - timedelta(minutes=long_thread - turn)
                rows.extend(maker.trace(at, 10, "long-thread", projects[0][0]))
            for start in range(0, len(rows), batch_size):
                done += self._write(rows[start : start + batch_size])
            self.stdout.write(f"\nlong thread: {long_thread:,} turns")
        # A bulk load leaves one rollup delta per run: fold them now, not in
        # the first dashboard request (seconds at a million runs).
        rollups.compact()
        elapsed = time.monotonic() - began
        self.stdout.write("")
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {done:,} runs in {elapsed:,.1f}s ({done / elapsed:,.0f}/s)."
            )
        )

    def _write(self, rows: list[dict[str, Any]]) -> int:
        if not rows:
            return 0
        for row in rows:
            _price(row)
        with transaction.atomic():
            upsert_runs(rows)
            update_trace_costs({row["trace_id"] for row in rows})
        return len(rows)


def _price(row: dict[str, Any]) -> None:
    """Price a seeded LLM call as ingestion would, so demo stores show costs."""
    if row.get("run_type") != "llm" or not row.get("model_name"):
        return
    usage = Usage(row["prompt_tokens"], row["completion_tokens"], row["total_tokens"])
    cost = price_usage(usage, row["model_name"], row.get("model_provider") or "")
    if cost is not None:
        row["prompt_cost"], row["completion_cost"], row["total_cost"] = cost[:3]
        row["price_source"] = cost.source
