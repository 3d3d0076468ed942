"""The trace store: projects, runs (a tree per trace), feedback and attachments."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone

# LangSmith clients expect a tenant id on every project; a single-tenant
# server answers with one fixed value.
TENANT_ID = uuid.UUID("11111111-1111-4111-8111-111111111111")


class UnicodeJSONEncoder(DjangoJSONEncoder):
    """Writes non-ASCII text as is, as the ingest store (orjson) does.

    Search matches the stored text of the bodies (migration 0007), so a run
    saved through the ORM must not hold "\\u00e9" where ingestion holds "é".
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs["ensure_ascii"] = False
        super().__init__(*args, **kwargs)


class Project(models.Model):
    """A LangSmith "session": the bucket runs are traced into."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    name = models.CharField(max_length=255, unique=True)
    description = models.TextField(blank=True, default="")
    metadata = models.JSONField(default=dict, blank=True)
    retention_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Delete traces older than this; empty = default.",
    )
    created_at = models.DateTimeField(default=timezone.now)
    end_time = models.DateTimeField(null=True, blank=True)
    # An agent address (LangSmith's ``lrn:agents/<id>/environments/<env>``)
    # names one project per (agent id, environment); "" for other projects.
    agent_id = models.CharField(max_length=63, blank=True, default="")
    agent_environment = models.CharField(max_length=16, blank=True, default="")
    # Set on experiments: the dataset whose examples the project's runs answer.
    # A plain id (no constraint), so an experiment outlives its dataset.
    reference_dataset_id = models.UUIDField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["agent_id", "agent_environment"],
                name="project_agent_address",
                condition=~models.Q(agent_id=""),
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def kind(self) -> str:
        """LangSmith's session type: an agent's project or a plain one."""
        return "AGENT" if self.agent_id else "PROJECT"


class Run(models.Model):
    """One span of a trace: a chain, LLM call, tool call, retrieval, ..."""

    class Status(models.TextChoices):
        RUNNING = "running"
        SUCCESS = "success"
        ERROR = "error"

    id = models.UUIDField(primary_key=True)
    # Indexed by run_trace_order (trace_id, dotted_order), whose prefix it is.
    trace_id = models.UUIDField()
    # No database constraint: SDKs send a child before its parent, and a
    # parent may never arrive at all.
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        db_constraint=False,
        on_delete=models.DO_NOTHING,
        related_name="children",
        db_column="parent_run_id",
        # Indexed by the partial run_parent index (children only) below.
        db_index=False,
    )
    dotted_order = models.TextField(default="")
    # Indexed by run_project_start (project, start time), whose prefix it is.
    project = models.ForeignKey(
        Project,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="runs",
        db_index=False,
    )
    name = models.CharField(max_length=512, default="", blank=True)
    run_type = models.CharField(max_length=64, default="chain")
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.RUNNING
    )
    start_time = models.DateTimeField()
    end_time = models.DateTimeField(null=True, blank=True)
    inputs = models.JSONField(encoder=UnicodeJSONEncoder, default=dict, blank=True)
    outputs = models.JSONField(encoder=UnicodeJSONEncoder, null=True, blank=True)
    error = models.TextField(null=True, blank=True)
    extra = models.JSONField(default=dict, blank=True)
    events = models.JSONField(default=list, blank=True)
    serialized = models.JSONField(null=True, blank=True)
    tags = models.JSONField(default=list, blank=True)
    reference_example_id = models.UUIDField(null=True, blank=True)
    prompt_tokens = models.IntegerField(default=0)
    completion_tokens = models.IntegerField(default=0)
    total_tokens = models.IntegerField(default=0)
    model_name = models.CharField(max_length=255, default="", blank=True)
    model_provider = models.CharField(max_length=255, default="", blank=True)
    # US dollars; null when unknown (a run that is not an LLM call, or a model
    # with no price: never $0). Floats: sums over a million runs stay in the
    # database's native arithmetic, and 15 digits are plenty for cents.
    prompt_cost = models.FloatField(null=True, blank=True)
    completion_cost = models.FloatField(null=True, blank=True)
    total_cost = models.FloatField(null=True, blank=True)
    # Which price made the cost ("genai-prices openai/gpt-4o: ...", "local ...",
    # "client" for a cost the client sent), so a run shows why it costs that.
    price_source = models.CharField(max_length=255, default="", blank=True)
    # Root runs only: the cost of the whole trace (sum of its priced runs,
    # null when none is priced), kept at ingest so roots sort by cost.
    trace_cost = models.FloatField(null=True, blank=True)
    first_token_time = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            # Root runs (one per trace) of a project, newest first.
            models.Index(
                fields=["project", "-start_time", "-id"],
                name="run_roots_project_start",
                condition=models.Q(parent__isnull=True),
            ),
            models.Index(
                fields=["-start_time", "-id"],
                name="run_roots_start",
                condition=models.Q(parent__isnull=True),
            ),
            models.Index(fields=["trace_id", "dotted_order"], name="run_trace_order"),
            # Every run of a project, newest first (LangSmith's list_runs).
            models.Index(
                fields=["project", "-start_time", "-id"], name="run_project_start"
            ),
            # Only children: an index holding every root's NULL lured SQLite's
            # planner away from the roots index (4 s instead of 2 ms at 1M runs).
            models.Index(
                fields=["parent"],
                name="run_parent",
                condition=models.Q(parent__isnull=False),
            ),
            # Roots by their trace's cost (0012); unpriced traces are not listed
            # when sorting by cost, which keeps NULLs out of the index order.
            models.Index(
                fields=["project", "-trace_cost", "-id"],
                name="run_roots_project_cost",
                condition=models.Q(parent__isnull=True, trace_cost__isnull=False),
            ),
            models.Index(
                fields=["-trace_cost", "-id"],
                name="run_roots_cost",
                condition=models.Q(parent__isnull=True, trace_cost__isnull=False),
            ),
            # The model filter selects traces with an LLM call of a model.
            models.Index(
                fields=["model_name", "trace_id"],
                name="run_model_trace",
                condition=~models.Q(model_name=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name or self.id} ({self.run_type})"

    @property
    def is_root(self) -> bool:
        return self.parent_id is None

    @property
    def duration(self) -> timedelta | None:
        if self.end_time is None:
            return None
        return self.end_time - self.start_time

    @property
    def duration_ms(self) -> float | None:
        duration = self.duration
        return None if duration is None else duration.total_seconds() * 1000

    @staticmethod
    def stale_q() -> models.Q:
        """Runs still running STALE_AFTER_MINUTES after they started.

        They may have crashed before sending their end; they are shown as
        stale, never rewritten as failed (their end may still arrive).
        """
        cutoff = timezone.now() - timedelta(minutes=settings.STALE_AFTER_MINUTES)
        return models.Q(status=Run.Status.RUNNING, start_time__lt=cutoff)

    @property
    def is_stale(self) -> bool:
        if self.status != Run.Status.RUNNING:
            return False
        age = timezone.now() - self.start_time
        return age > timedelta(minutes=settings.STALE_AFTER_MINUTES)

    @property
    def parent_run_ids(self) -> list[str]:
        """Ancestor ids, root first, read from the dotted order."""
        segments = self.dotted_order.split(".") if self.dotted_order else []
        return [seg[-36:] for seg in segments[:-1]]


class Feedback(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    # A plain id, not a constraint: feedback may arrive before its run.
    run_id = models.UUIDField(null=True, blank=True, db_index=True)
    trace_id = models.UUIDField(null=True, blank=True, db_index=True)
    session_id = models.UUIDField(null=True, blank=True)
    key = models.CharField(max_length=255)
    score = models.FloatField(null=True, blank=True)
    value = models.JSONField(null=True, blank=True)
    comment = models.TextField(null=True, blank=True)
    correction = models.JSONField(null=True, blank=True)
    source = models.JSONField(null=True, blank=True)
    extra = models.JSONField(null=True, blank=True)
    # Pairwise evaluators' scores: the comparison they belong to, and the
    # group of feedback (one per compared run) a single judgement produced.
    comparative_experiment_id = models.UUIDField(null=True, blank=True, db_index=True)
    feedback_group_id = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    modified_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "feedback"
        indexes = [
            # An experiment's scores per key (session feedback statistics).
            models.Index(fields=["session_id", "key"], name="feedback_session_key")
        ]

    def __str__(self) -> str:
        return f"{self.key}={self.score if self.score is not None else self.value}"


def _attachment_path(instance: Attachment, filename: str) -> str:
    return f"attachments/{instance.run_id}/{uuid.uuid4().hex}"


class Attachment(models.Model):
    run_id = models.UUIDField(db_index=True)
    trace_id = models.UUIDField(null=True, blank=True, db_index=True)
    name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=255, default="application/octet-stream")
    size = models.BigIntegerField(default=0)
    file = models.FileField(upload_to=_attachment_path, max_length=512)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run_id", "name"], name="attachment_unique")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.content_type}, {self.size} bytes)"


class SharedTrace(models.Model):
    """A trace readable without login through its share token."""

    token = models.UUIDField(unique=True, default=uuid.uuid4)
    trace_id = models.UUIDField(unique=True)
    project_id = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.trace_id} ({self.token})"


class ApiKey(models.Model):
    """A key for the API, stored as a SHA-256 digest (keys are random, high-entropy)."""

    name = models.CharField(max_length=255)
    prefix = models.CharField(max_length=16, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    project = models.ForeignKey(
        Project,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="api_keys",
    )
    read_only = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"
        constraints = [
            # A name says which key to revoke: two active keys never share one.
            models.UniqueConstraint(
                fields=["name"],
                condition=models.Q(revoked_at__isnull=True),
                name="apikey_active_name_unique",
                violation_error_message="An active API key already has this name.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class RollupCounts(models.Model):
    """The keys and sums of a statistics rollup row, whatever time it spans."""

    project_id = models.UUIDField(null=True, blank=True)
    run_type = models.CharField(max_length=64)
    status = models.CharField(max_length=16)
    is_root = models.BooleanField()
    # Root runs that ended: floor(20 * log10(latency in ms)), 20 buckets a decade.
    latency_bucket = models.SmallIntegerField(null=True, blank=True)
    # Sum of those latencies: a bucket's mean is the percentile estimate.
    latency_ms = models.FloatField(default=0)
    # The run's model ("" for none): the overview's runs per model (0008).
    model_name = models.CharField(max_length=255, default="", blank=True)
    runs = models.BigIntegerField(default=0)
    prompt_tokens = models.BigIntegerField(default=0)
    completion_tokens = models.BigIntegerField(default=0)
    total_tokens = models.BigIntegerField(default=0)
    # Sums of the priced runs' costs, and LLM runs with tokens but no price
    # (migration 0012).
    prompt_cost = models.FloatField(default=0)
    completion_cost = models.FloatField(default=0)
    total_cost = models.FloatField(default=0)
    unpriced_runs = models.BigIntegerField(default=0)

    class Meta:
        abstract = True


class RunRollup(RollupCounts):
    """Hourly run counts for statistics, maintained by database triggers.

    Every insert, update and delete of a run appends signed deltas here
    (migration 0005), so sums over these rows are always exact whatever wrote
    the run; ``runs.query.rollups.compact`` folds the deltas together.
    """

    hour = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["hour"], name="run_rollup_hour")]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H:00} {self.run_type}/{self.status}: {self.runs}"


class DailyRollup(RollupCounts):
    """The folded hourly rollups summed per whole UTC day (migration 0020).

    ``runs.query.rollups.compact`` adds the deltas it folds into the hourly
    rows to these in the same transaction, so a day here always equals the sum
    of that day's folded hourly rows: a month's summary reads a few thousand
    day rows instead of tens of thousands of hourly ones.
    """

    # The day's first hour (named as RunRollup's, so both group alike).
    hour = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["hour"], name="daily_rollup_hour")]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d} {self.run_type}/{self.status}: {self.runs}"


class ModelPrice(models.Model):
    """A local price (US dollars per million tokens) that overrides genai-prices.

    ``model`` is an exact model name, or with ``is_pattern`` a regular
    expression the whole name must match; without a provider it applies to
    that model from any provider (e.g. ``ChatOpenAI`` pointed at a vLLM server).
    Stored runs keep their cost until ``manage.py reprice_runs`` recomputes it.
    """

    model = models.CharField(max_length=255)
    is_pattern = models.BooleanField(
        default=False,
        help_text="Treat the model as a regular expression matching the whole name.",
    )
    provider = models.CharField(
        max_length=255, blank=True, default="", help_text="Empty = any provider."
    )
    input_per_mtok = models.FloatField()
    output_per_mtok = models.FloatField()
    cache_read_per_mtok = models.FloatField(
        null=True, blank=True, help_text="Empty = the input price."
    )
    cache_write_per_mtok = models.FloatField(
        null=True, blank=True, help_text="Empty = the input price."
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["model", "provider"]
        constraints = [
            models.UniqueConstraint(
                fields=["model", "provider"], name="model_price_unique"
            )
        ]

    def __str__(self) -> str:
        where = f" ({self.provider})" if self.provider else ""
        return f"{self.model}{where}"

    def clean(self) -> None:
        """Refuse a pattern that does not compile and an absurd price."""
        errors: dict[str, str] = {}
        if self.is_pattern:
            try:
                re.compile(self.model)
            except re.error as exc:
                errors["model"] = f"Not a regular expression: {exc}."
        for name in (
            "input_per_mtok",
            "output_per_mtok",
            "cache_read_per_mtok",
            "cache_write_per_mtok",
        ):
            value = getattr(self, name)
            if value is not None and not 0 <= value < 1e6:
                errors[name] = "A price per million tokens is between 0 and 1,000,000."
        if errors:
            raise ValidationError(errors)


class ViewerScope(models.Model):
    """The one project a dashboard viewer may read (``runs.viewers``).

    A viewer without a scope reads every project, like an unscoped key.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="viewer_scope"
    )
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="viewer_scopes"
    )

    class Meta:
        verbose_name = "viewer's project"

    def __str__(self) -> str:
        return f"{self.user} → {self.project}"


# Thread and user rollups live in their own module; imported so Django loads them.
from runs.thread_models import ThreadRollup, TraceRollup, UserRollup  # noqa: E402, F401
