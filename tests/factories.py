"""factory-boy factories for the trace store."""

import uuid

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from runs.ingest.normalize import segment
from runs.models import Feedback, Project, Run


class ProjectFactory(DjangoModelFactory):
    class Meta:
        model = Project
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"project-{n}")


class RunFactory(DjangoModelFactory):
    """A root run; pass ``parent=`` for a child (trace and dotted order follow)."""

    class Meta:
        model = Run

    id = factory.LazyFunction(uuid.uuid4)
    parent = None
    project = factory.SubFactory(ProjectFactory, name="default")
    name = factory.Sequence(lambda n: f"run-{n}")
    run_type = "chain"
    status = Run.Status.SUCCESS
    start_time = factory.LazyFunction(timezone.now)
    end_time = factory.LazyAttribute(
        lambda o: o.start_time + timezone.timedelta(seconds=1)
    )
    inputs = factory.Dict({"question": "What is 2 + 2?"})
    outputs = factory.Dict({"answer": "4"})
    trace_id = factory.LazyAttribute(lambda o: o.parent.trace_id if o.parent else o.id)
    dotted_order = factory.LazyAttribute(
        lambda o: (
            (o.parent.dotted_order + "." if o.parent else "")
            + segment(o.start_time, o.id)
        )
    )


class FeedbackFactory(DjangoModelFactory):
    class Meta:
        model = Feedback

    key = "correctness"
    score = 1.0


class DatasetFactory(DjangoModelFactory):
    class Meta:
        model = "datasets.Dataset"

    name = factory.Sequence(lambda n: f"dataset-{n}")


class ExampleFactory(DjangoModelFactory):
    """The current revision of an example."""

    class Meta:
        model = "datasets.Example"

    id = factory.LazyFunction(uuid.uuid4)
    dataset = factory.SubFactory(DatasetFactory)
    inputs = factory.Dict({"question": "What is 2 + 2?"})
    outputs = factory.Dict({"answer": "4"})
    metadata = factory.Dict({"dataset_split": ["base"]})


class AlertRuleFactory(DjangoModelFactory):
    """An error-rate rule on every project; pass ``project=`` for one project."""

    class Meta:
        model = "alerts.AlertRule"

    name = factory.Sequence(lambda n: f"rule-{n}")
    project = None
    metric = "error_rate"
    comparison = "gt"
    threshold = 0.5
    window_minutes = 60
    webhook_url = "http://127.0.0.1:9/hook"
