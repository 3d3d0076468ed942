"""The datasets admin lists counts and shows example bodies escaped."""

import pytest

from tests.factories import DatasetFactory, ExampleFactory

pytestmark = pytest.mark.django_db


def test_dataset_and_example_admin_pages_render_escaped(admin_client):
    dataset = DatasetFactory(name="qa")
    example = ExampleFactory(dataset=dataset, inputs={"q": "<script>x</script>"})
    listing = admin_client.get("/admin/datasets/dataset/").content.decode()
    assert "qa" in listing
    assert '<td class="field-example_count">1</td>' in listing
    page = admin_client.get(f"/admin/datasets/example/{example.revision}/change/")
    body = page.content.decode()
    assert page.status_code == 200
    assert "&lt;script&gt;x&lt;/script&gt;" in body
    assert "<script>x</script>" not in body
    assert admin_client.get("/admin/datasets/example/add/").status_code == 403
