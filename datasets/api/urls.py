"""Dataset and experiment routes under API_PREFIX; paths mirror LangSmith's."""

from django.urls import path

from datasets.api import dataset_views as d
from datasets.api import example_views as e
from datasets.api import experiment_views as x

urlpatterns = [
    path("datasets", d.DatasetListView.as_view(), name="datasets"),
    path("datasets/upload", d.UploadCSVView.as_view(), name="datasets-upload"),
    path("datasets/comparative", x.ComparativeView.as_view(), name="comparative"),
    path("datasets/<uuid:pk>", d.DatasetDetailView.as_view(), name="dataset-detail"),
    path(
        "datasets/<uuid:pk>/versions",
        d.DatasetVersionsView.as_view(),
        name="dataset-versions",
    ),
    path(
        "datasets/<uuid:pk>/version",
        d.DatasetVersionView.as_view(),
        name="dataset-version",
    ),
    path(
        "datasets/<uuid:pk>/versions/diff",
        d.DatasetDiffView.as_view(),
        name="dataset-diff",
    ),
    path("datasets/<uuid:pk>/tags", d.DatasetTagsView.as_view(), name="dataset-tags"),
    path(
        "datasets/<uuid:pk>/splits",
        d.DatasetSplitsView.as_view(),
        name="dataset-splits",
    ),
    path(
        "datasets/<uuid:pk>/jsonl", d.DatasetJSONLView.as_view(), name="dataset-jsonl"
    ),
    path("datasets/<uuid:pk>/csv", d.DatasetCSVView.as_view(), name="dataset-csv"),
    path(
        "datasets/<uuid:pk>/runs",
        x.ExperimentRunsView.as_view(),
        name="experiment-runs",
    ),
    path("examples", e.ExampleListView.as_view(), name="examples"),
    path("examples/bulk", e.ExampleBulkView.as_view(), name="examples-bulk"),
    path(
        "examples/attachments/<str:token>",
        e.ExampleAttachmentView.as_view(),
        name="example-attachment",
    ),
    path("examples/<uuid:pk>", e.ExampleDetailView.as_view(), name="example-detail"),
    path(
        "platform/datasets/<uuid:pk>/examples",
        e.DatasetExamplesMultipartView.as_view(),
        name="dataset-examples-multipart",
    ),
    path(
        "platform/datasets/<uuid:pk>/examples/metadata",
        e.DatasetExamplesMetadataView.as_view(),
        name="dataset-examples-metadata",
    ),
]
