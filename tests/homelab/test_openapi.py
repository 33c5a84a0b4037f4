"""The OpenAPI schema and Swagger UI, served without internet access and without credentials."""
import re

import pytest

pytestmark = pytest.mark.django_db


def test_the_schema_is_open_and_lists_the_apis(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    for path in ("/api/accounts/token/", "/api/services/{id}/proxy/", "/api/epg/sources/", "/api/epg/import/",
                 "/api/dispatcharr/settings", "/healthz"):
        assert any(p.rstrip("/") == path.rstrip("/") for p in schema["paths"]), path
    assert {"bearerAuth", "apiKey", "webToken"} <= set(schema["components"]["securitySchemes"])


def test_swagger_ui_loads_its_assets_from_this_server(client):
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', html)
    assert assets, html[:500]
    for asset in assets:
        assert asset.startswith("/static/"), f"{asset} would need the internet"
        assert client.get(asset).status_code == 200, asset
