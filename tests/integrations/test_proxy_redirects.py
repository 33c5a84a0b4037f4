"""Redirects the proxy follows stay inside the service's API URL: a same-host redirect that leaves its path prefix
is not followed, so the stored key is not sent to another application on the same host (review defect 8)."""
from urllib.parse import quote

import pytest

from integrations.client import APIError, GenericAPIClient
from integrations.models import Service
from tests.integrations.upstreams import ARR_KEY

pytestmark = pytest.mark.django_db

NOT_FOLLOWED = "Upstream redirected (HTTP 302); redirects outside the service's API URL are not followed"


@pytest.fixture
def host(fake_server):
    """One host with two applications: sonarr under /sonarr, something else under /other."""
    srv = fake_server()
    srv.route("GET", "/sonarr/api/v3/status")(lambda call: (200, {"key_ok": call.headers.get("x-api-key") == ARR_KEY}))
    srv.route("GET", "/other/steal")(lambda call: (200, {"stolen": call.headers.get("x-api-key")}))
    srv.route("GET", "/sonarrx/steal")(lambda call: (200, {"stolen": call.headers.get("x-api-key")}))
    return srv


@pytest.fixture
def service(host):
    return Service.objects.create(name="sonarr", api_url=host.url + "/sonarr", api_key=ARR_KEY, api_auth_type="api_key")


def proxy(service, path):
    return f"/api/services/{service.pk}/proxy/?path={quote(path, safe='/')}"


@pytest.mark.parametrize("location", ["/other/steal", "/sonarrx/steal", "/sonarr/../other/steal",
                                      "/sonarr/%2e%2e/other/steal", "/sonarr/%252e%252e/other/steal",
                                      "{url}/other/steal"])
def test_a_same_host_redirect_outside_the_api_url_is_not_followed(admin_client_jwt, service, host, location):
    host.route("GET", "/sonarr/api/v3/go")(lambda call: (302, "", {"Location": location.format(url=host.url)}))
    response = admin_client_jwt.get(proxy(service, "/api/v3/go"))
    assert response.status_code == 502
    assert response.json() == {"success": False, "error": NOT_FOLLOWED}
    assert [c.path for c in host.calls] == ["/sonarr/api/v3/go"]


def test_a_redirect_inside_the_api_url_is_followed(admin_client_jwt, service, host):
    host.route("GET", "/sonarr/api/v3/old")(lambda call: (301, "", {"Location": "/sonarr/api/v3/status"}))
    response = admin_client_jwt.get(proxy(service, "/api/v3/old"))
    assert response.json() == {"success": True, "data": {"key_ok": True}}


def test_the_client_does_not_follow_it_either(host):
    host.route("GET", "/sonarr/api/v3/go")(lambda call: (302, "", {"Location": "/other/steal"}))
    client = GenericAPIClient(host.url + "/sonarr", api_key=ARR_KEY)
    assert client.get("/api/v3/go", raw=True).status_code == 302
    with pytest.raises(APIError, match="not followed"):
        client.get("/api/v3/go")
    assert host.calls_to("/other/steal") == []
