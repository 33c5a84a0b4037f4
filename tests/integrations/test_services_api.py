"""/api/services/: list, detail, create/update with write-only credentials, detect, test, docs; the admin."""
import pytest

from integrations.models import Service
from tests.integrations import upstreams
from tests.integrations.upstreams import ARR_KEY

pytestmark = pytest.mark.django_db


@pytest.fixture
def sonarr(fake_server):
    srv = upstreams.arr(fake_server())
    service = Service.objects.create(name="sonarr", api_url=srv.url, api_key=ARR_KEY, service_type="sonarr")
    return service, srv


def test_list_and_detail_never_show_credentials(admin_client_jwt, sonarr):
    service, _ = sonarr
    listed = admin_client_jwt.get("/api/services/")
    assert listed.status_code == 200
    item = listed.json()[0]
    assert item["name"] == "sonarr" and item["has_api_key"] is True and item["has_credentials"] is True
    assert "api_key" not in item and "api_password" not in item
    detail = admin_client_jwt.get(f"/api/services/{service.pk}/")
    assert detail.json()["id"] == service.pk and ARR_KEY not in detail.content.decode()


def test_create_and_update_a_manual_service(admin_client_jwt):
    created = admin_client_jwt.post("/api/services/", {"name": "gitea", "url": "http://127.0.0.1:3000",
                                                       "api_username": "me", "api_password": "secret-pw-1"},
                                    format="json")
    assert created.status_code == 201 and created.json()["source"] == "manual"
    assert "secret-pw-1" not in created.content.decode()
    pk = created.json()["id"]
    updated = admin_client_jwt.patch(f"/api/services/{pk}/", {"api_url": "http://127.0.0.1:3001"}, format="json")
    assert updated.json()["api_url"] == "http://127.0.0.1:3001"
    service = Service.objects.get(pk=pk)
    assert service.api_password == "secret-pw-1" and service.api_url_locked
    bad = admin_client_jwt.patch(f"/api/services/{pk}/", {"api_url": "ftp://x"}, format="json")
    assert bad.status_code == 400 and bad.json()["success"] is False


def test_anonymous_is_refused(api_client):
    response = api_client.get("/api/services/")
    assert response.status_code == 401 and response.json()["success"] is False


def test_detect_now(admin_client_jwt, sonarr):
    service, srv = sonarr
    response = admin_client_jwt.post(f"/api/services/{service.pk}/detect/")
    body = response.json()
    assert response.status_code == 200 and body["detected"] is True and body["method"] == "catalogue"
    assert body["auth_type"] == "api_key"
    service.refresh_from_db()
    assert service.api_detected_at is not None


def test_test_connection(admin_client_jwt, sonarr):
    service, srv = sonarr
    body = admin_client_jwt.post(f"/api/services/{service.pk}/test/").json()
    assert body["success"] is True and body["status"] == 200 and body["path"] == "/api/v3/system/status"
    service.api_key = "wrong-key-1234567"
    service.save()
    body = admin_client_jwt.post(f"/api/services/{service.pk}/test/").json()
    assert body["success"] is False and body["status"] == 401
    assert "wrong-key-1234567" not in str(body)


def test_docs(admin_client_jwt, sonarr):
    service, _ = sonarr
    admin_client_jwt.post(f"/api/services/{service.pk}/detect/")
    body = admin_client_jwt.get(f"/api/services/{service.pk}/docs/").json()
    assert body["base_path"] == "/api/v3" and body["auth_type"] == "api_key"
    assert set(body["examples"]) == {"curl", "python", "fetch"}
    assert f"/api/services/{service.pk}/proxy/?path=/api/v3/system/status" in body["examples"]["curl"]
    assert body["probes_answered"][0]["path"] == "/api/v3/system/status"
    assert ARR_KEY not in str(body)


def test_unknown_routes_answer_in_the_dialect(admin_client_jwt):
    response = admin_client_jwt.get("/api/services/1/nothing-here/")
    assert response.status_code == 404 and response.json()["success"] is False


def test_admin_masks_credentials_and_runs_actions(client, admin_user, sonarr):
    service, srv = sonarr
    client.force_login(admin_user)
    page = client.get(f"/admin/integrations/service/{service.pk}/change/")
    assert page.status_code == 200 and ARR_KEY not in page.content.decode()
    listing = client.get("/admin/integrations/service/?api_detected__exact=0&q=sonarr")
    assert listing.status_code == 200
    for action in ("redetect_api", "test_connection"):
        response = client.post("/admin/integrations/service/", {"action": action, "_selected_action": [service.pk]},
                               follow=True)
        assert response.status_code == 200
        assert ARR_KEY not in response.content.decode()
    service.refresh_from_db()
    assert service.api_detected
    messages = [str(m) for m in response.context["messages"]]
    assert any("sonarr: OK" in m for m in messages)


def test_only_staff_change_services(api_client, django_user_model, sonarr):
    service, _ = sonarr
    django_user_model.objects.create_user("viewer", "v@example.com", "viewer-pass-1")
    token = api_client.post("/api/accounts/token/", {"username": "viewer", "password": "viewer-pass-1"},
                            format="json").json()["access"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api_client.get("/api/services/").status_code == 200
    response = api_client.patch(f"/api/services/{service.pk}/", {"api_url": "http://127.0.0.1:1"}, format="json")
    assert response.status_code == 403 and response.json()["success"] is False
    assert api_client.post("/api/services/", {"name": "x"}, format="json").status_code == 403
    assert api_client.delete(f"/api/services/{service.pk}/").status_code == 403
    assert api_client.get(f"/api/services/{service.pk}/proxy/?path=/api/v3/system/status").status_code == 200


def test_an_xtream_username_is_masked_for_non_staff_users(api_client, admin_user, django_user_model):
    # the xtream mode masks the panel's username like its password (in logs, errors and proxied answers), but
    # the services list and detail showed it to every signed-in user
    panel = Service.objects.create(name="panel", api_url="http://127.0.0.1:1", api_auth_type="xtream",
                                   api_username="panel-user-77", api_password="panel-pass-77")
    django_user_model.objects.create_user("viewer", "v@example.com", "viewer-pass-1")
    token = api_client.post("/api/accounts/token/", {"username": "viewer", "password": "viewer-pass-1"},
                            format="json").json()["access"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    for response in (api_client.get("/api/services/"), api_client.get(f"/api/services/{panel.pk}/")):
        assert response.status_code == 200
        assert "panel-user-77" not in response.content.decode()
    assert api_client.get(f"/api/services/{panel.pk}/").json()["api_username"] == "****"
    api_client.force_authenticate(admin_user)
    assert api_client.get(f"/api/services/{panel.pk}/").json()["api_username"] == "panel-user-77"


def test_an_auth_type_set_by_hand_survives_re_detection(admin_client_jwt, fake_server):
    # detection sees an open health path and says "none"; the user knows the API wants HTTP Basic
    srv = upstreams.basic(fake_server())
    srv.route("GET", "/api/v1")(lambda call: (200, {"name": "open"}))
    created = admin_client_jwt.post("/api/services/", {"name": "mystery-app", "api_url": srv.url,
                                                       "api_username": upstreams.USER,
                                                       "api_password": upstreams.PASSWORD}, format="json").json()
    assert admin_client_jwt.post(f"/api/services/{created['id']}/detect/").json()["auth_type"] == "none"
    admin_client_jwt.patch(f"/api/services/{created['id']}/", {"api_auth_type": "basic"}, format="json")
    admin_client_jwt.post(f"/api/services/{created['id']}/detect/")
    service = Service.objects.get(pk=created["id"])
    assert service.api_auth_type == "basic" and service.api_detected and service.api_base_path == "/api/v1"
    answer = admin_client_jwt.get(f"/api/services/{service.pk}/proxy/?path=/api/health")
    assert answer.json() == {"success": True, "data": {"status": "ok"}}
    # set back to blank ("unknown"): detection owns it again
    admin_client_jwt.patch(f"/api/services/{service.pk}/", {"api_auth_type": ""}, format="json")
    admin_client_jwt.post(f"/api/services/{service.pk}/detect/")
    assert Service.objects.get(pk=service.pk).api_auth_type == "none"


def test_the_admin_keeps_an_auth_type_set_by_hand(client, admin_user, sonarr):
    service, _ = sonarr
    client.force_login(admin_user)
    page = client.get(f"/admin/integrations/service/{service.pk}/change/")
    form = {k: v for k, v in page.context["adminform"].form.initial.items() if v is not None}
    form.update({"name": service.name, "slug": service.slug, "api_auth_type": "basic", "api_key": "****",
                 "entry_points": "[]", "labels": "{}", "api_evidence": "{}", "enabled": "on", "verify_ssl": "on"})
    response = client.post(f"/admin/integrations/service/{service.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    client.post("/admin/integrations/service/", {"action": "redetect_api", "_selected_action": [service.pk]})
    service.refresh_from_db()
    assert service.api_auth_type == "basic" and service.api_key == ARR_KEY


def test_test_connection_proves_the_key_where_the_health_path_is_public(admin_client_jwt, fake_server):
    # Jellyfin's /System/Info/Public answers anyone: a wrong key must not test OK
    srv = fake_server()
    srv.route("GET", "/System/Info/Public")(lambda call: (200, {"ServerName": "jf"}))
    srv.route("GET", "/System/Info")(lambda call: (200, {"ServerName": "jf", "Version": "10.9"})
                                     if call.headers.get("x-emby-token") == "jf-key-0123456789"
                                     else (401, "", {}))
    service = Service.objects.create(name="jellyfin", api_url=srv.url, api_key="jf-key-0123456789",
                                     service_type="jellyfin")
    body = admin_client_jwt.post(f"/api/services/{service.pk}/test/").json()
    assert body["success"] is True and body["path"] == "/System/Info"
    service.api_key = "wrong-key-0000000"
    service.save()
    body = admin_client_jwt.post(f"/api/services/{service.pk}/test/").json()
    assert body["success"] is False and body["status"] == 401


@pytest.mark.parametrize("url", ["http://[x", "http://", "http://host:99999", "https://:80/x"])
def test_malformed_urls_are_refused_and_a_stored_one_is_no_500(admin_client_jwt, url):
    response = admin_client_jwt.post("/api/services/", {"name": "bad", "api_url": url}, format="json")
    assert response.status_code == 400 and response.json()["success"] is False
    service = Service.objects.create(name="bad-row", api_url=url)  # e.g. saved through the admin
    detected = admin_client_jwt.post(f"/api/services/{service.pk}/detect/")
    assert detected.status_code == 200 and detected.json()["detected"] is False
    tested = admin_client_jwt.post(f"/api/services/{service.pk}/test/")
    assert tested.status_code == 200 and tested.json()["success"] is False
    proxied = admin_client_jwt.get(f"/api/services/{service.pk}/proxy/?path=/api")
    assert proxied.status_code == 400 and proxied.json()["success"] is False


def test_the_admin_refuses_a_malformed_url(client, admin_user):
    client.force_login(admin_user)
    response = client.post("/admin/integrations/service/add/", {
        "name": "bad", "slug": "bad", "api_url": "http://host:99999", "source": "manual", "entry_points": "[]",
        "labels": "{}", "api_evidence": "{}", "enabled": "on", "verify_ssl": "on"})
    assert response.status_code == 200  # the form again, with the error
    assert "Must be an http:// or https:// URL." in response.content.decode()
    assert not Service.objects.filter(name="bad").exists()
