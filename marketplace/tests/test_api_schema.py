import re

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_openapi_schema_generates_without_warnings(tmp_path):
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(tmp_path / "schema.yml"))
    text = (tmp_path / "schema.yml").read_text()
    for path in (
        "/api/v1/auth/token/",
        "/api/v1/products/",
        "/api/v1/cart/",
        "/api/v1/orders/",
        "/api/v1/vendor/orders/",
    ):
        assert f"{path}:" in text


@pytest.mark.django_db
def test_api_docs_are_served_with_local_assets(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    body = response.content.decode()
    assert not re.search(r"https?://(cdn|unpkg|fonts\.)", body)
    assert "/static/drf_spectacular_sidecar/" in body
    assert client.get("/api/schema/", HTTP_ACCEPT="application/json").status_code == 200
