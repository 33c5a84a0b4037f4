"""Who may use a service's stored credentials: reads through the proxy for anyone signed in; writes through the
proxy, "test" and "detect" for staff or holders of ``integrations.use_service_api`` (review defect 3)."""
import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from integrations.models import Service
from tests.integrations import upstreams
from tests.integrations.upstreams import ARR_KEY

pytestmark = pytest.mark.django_db

FORBIDDEN = {"success": False, "error": "You do not have permission to perform this action."}


@pytest.fixture
def sonarr(fake_server):
    srv = upstreams.arr(fake_server())
    srv.route("*", "/api/v3/echo")(lambda call: (200, {"method": call.method}))
    service = Service.objects.create(name="sonarr", api_url=srv.url, api_key=ARR_KEY, service_type="sonarr")
    return service, srv


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("viewer", password="viewer-pass-1")


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def proxy(service, path="/api/v3/echo"):
    return f"/api/services/{service.pk}/proxy/?path={path}"


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_a_non_staff_user_cannot_write_through_the_proxy(user, sonarr, method):
    service, srv = sonarr
    response = getattr(client_for(user), method)(proxy(service), {"a": 1}, format="json")
    assert response.status_code == 403
    assert response.json() == FORBIDDEN
    assert srv.calls == []


@pytest.mark.parametrize("action", ["test", "detect"])
def test_a_non_staff_user_cannot_test_or_detect(user, sonarr, action):
    service, srv = sonarr
    response = client_for(user).post(f"/api/services/{service.pk}/{action}/")
    assert response.status_code == 403
    assert response.json() == FORBIDDEN
    assert srv.calls == []
    service.refresh_from_db()
    assert service.api_detected_at is None


def test_a_non_staff_user_still_reads_through_the_proxy(user, sonarr):
    service, _ = sonarr
    response = client_for(user).get(proxy(service, "/api/v3/system/status"))
    assert response.status_code == 200
    assert response.json() == {"success": True, "data": {"appName": "Sonarr", "version": "4.0.0"}}


def test_the_use_service_api_permission_allows_writes_test_and_detect(user, sonarr):
    service, srv = sonarr
    user.user_permissions.add(Permission.objects.get(codename="use_service_api",
                                                     content_type__app_label="integrations"))
    client = client_for(type(user).objects.get(pk=user.pk))  # a fresh row: permissions are cached per instance
    assert client.post(proxy(service), {"a": 1}, format="json").json() == {"success": True,
                                                                          "data": {"method": "POST"}}
    assert client.delete(proxy(service)).json()["data"] == {"method": "DELETE"}
    assert client.post(f"/api/services/{service.pk}/test/").json()["success"] is True
    assert client.post(f"/api/services/{service.pk}/detect/").status_code == 200


def test_staff_may_write_test_and_detect(django_user_model, sonarr):
    service, _ = sonarr
    staff = django_user_model.objects.create_user("ops", password="ops-pass-123", is_staff=True)
    client = client_for(staff)
    assert client.patch(proxy(service), {"a": 1}, format="json").json()["data"] == {"method": "PATCH"}
    assert client.post(f"/api/services/{service.pk}/test/").status_code == 200
