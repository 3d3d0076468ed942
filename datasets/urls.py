from django.urls import path

from datasets import views

app_name = "datasets"

urlpatterns = [
    path("datasets", views.dataset_list, name="list"),
    path("datasets/<uuid:pk>", views.dataset_detail, name="detail"),
    path("datasets/<uuid:pk>/compare", views.compare, name="compare"),
    path(
        "traces/<uuid:trace_id>/runs/<uuid:run_id>/add-to-dataset",
        views.add_to_dataset,
        name="add_to_dataset",
    ),
]
