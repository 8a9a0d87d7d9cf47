"""The API documentation works offline: Swagger UI comes from our static files, not a CDN."""

from __future__ import annotations

import pytest


@pytest.mark.django_db
def test_api_docs_page_loads_swagger_from_local_static_files(client):
    page = client.get("/api/docs").content.decode()
    assert "/static/ninja/" in page
    assert "cdn.jsdelivr" not in page
    assert "unpkg.com" not in page


@pytest.mark.django_db
def test_openapi_json_is_served(client):
    schema = client.get("/api/openapi.json").json()
    assert schema["info"]["title"] == "Tepat API"
    assert any(path.startswith("/api/registry/") for path in schema["paths"])
