"""The dataset pages: the list, one dataset (examples and experiments), the
comparison of experiments, and "Add to dataset" from a run."""

from __future__ import annotations

import uuid

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.decorators.http import require_POST

from dashboard.views.common import dashboard_view, page
from datasets import pages, services
from datasets.models import Dataset
from datasets.selectors import examples_at, with_counts
from runs.models import Project, Run

EXAMPLES_PER_PAGE = 50
COMPARED_PER_PAGE = 100
SHOW = ("all", "regressions", "improvements")


def _offset(request: HttpRequest) -> int:
    try:
        return max(0, min(int(request.GET.get("offset", 0)), 10**9))
    except ValueError:
        return 0


@dashboard_view
def dataset_list(request: HttpRequest) -> HttpResponse:
    datasets = with_counts(Dataset.objects.order_by("name"))[:500]
    return page(request, "datasets/list.html", {"datasets": datasets})


@dashboard_view
def dataset_detail(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    dataset = get_object_or_404(with_counts(Dataset.objects.all()), pk=pk)
    search = request.GET.get("q", "").strip()[:200]
    offset = _offset(request)
    examples = examples_at(dataset_id=dataset.pk, when=None, search=search)
    shown = list(examples[offset : offset + EXAMPLES_PER_PAGE + 1])
    experiments = pages.experiments_of(dataset, Project.objects.all())
    keys, rows = pages.experiment_rows(experiments)
    return page(
        request,
        "datasets/detail.html",
        {
            "dataset": dataset,
            "examples": shown[:EXAMPLES_PER_PAGE],
            "more": len(shown) > EXAMPLES_PER_PAGE,
            "next_offset": offset + EXAMPLES_PER_PAGE,
            "prev_offset": max(0, offset - EXAMPLES_PER_PAGE) if offset else None,
            "search": search,
            "keys": keys,
            "experiments": rows,
            "added": request.GET.get("added", ""),
        },
    )


def _compared(request: HttpRequest, dataset: Dataset) -> list[Project]:
    """The experiments named by ``?experiment=``, else the two newest; oldest
    first, so the baseline is the earlier experiment."""
    wanted = []
    for value in request.GET.getlist("experiment")[: pages.MAX_COMPARED]:
        try:
            wanted.append(uuid.UUID(value))
        except ValueError:
            raise Http404("Not an experiment id.") from None
    projects = Project.objects.filter(reference_dataset_id=dataset.pk)
    if not wanted:
        return list(reversed(projects.order_by("-created_at", "id")[:2]))
    found = list(projects.filter(id__in=wanted).order_by("created_at", "id"))
    if len(found) != len(set(wanted)):
        raise Http404("No such experiment of this dataset.")
    return found


@dashboard_view
def compare(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    dataset = get_object_or_404(Dataset, pk=pk)
    experiments = _compared(request, dataset)
    show = request.GET.get("show", "all")
    show = show if show in SHOW else "all"
    offset = _offset(request)
    examples = examples_at(dataset_id=dataset.pk, when=None)[
        offset : offset + COMPARED_PER_PAGE
    ]
    keys, rows = (
        pages.compare(dataset, experiments, examples) if experiments else ([], [])
    )
    totals = {
        "regressions": sum(1 for r in rows if r.regressions),
        "improvements": sum(1 for r in rows if r.improvements),
    }
    if show == "regressions":
        rows = [r for r in rows if r.regressions]
    elif show == "improvements":
        rows = [r for r in rows if r.improvements]
    all_experiments = Project.objects.filter(reference_dataset_id=dataset.pk).order_by(
        "-created_at"
    )[: pages.MAX_EXPERIMENTS]
    return page(
        request,
        "datasets/compare.html",
        {
            "dataset": dataset,
            "experiments": experiments,
            "all_experiments": all_experiments,
            "keys": keys,
            "rows": rows,
            "show": show,
            "totals": totals,
            "query": [("experiment", str(p.id)) for p in experiments],
            "offset": offset,
            "more": len(examples) == COMPARED_PER_PAGE,
        },
    )


@require_POST
@dashboard_view
def add_to_dataset(
    request: HttpRequest, trace_id: uuid.UUID, run_id: uuid.UUID
) -> HttpResponse:
    """The run's inputs and outputs become an example of the chosen dataset."""
    run = get_object_or_404(Run, id=run_id, trace_id=trace_id)
    try:
        dataset = Dataset.objects.filter(
            pk=uuid.UUID(request.POST.get("dataset", ""))
        ).first()
    except ValueError:
        dataset = None
    if dataset is None:
        raise Http404("No such dataset.")
    example = services.ExampleInput(
        id=uuid.uuid4(), source_run_id=run.id, use_source_run_io=True
    )
    services.create_examples(dataset, [example])
    url = reverse("datasets:detail", args=[dataset.pk])
    return HttpResponseRedirect(f"{url}?added={example.id}")
