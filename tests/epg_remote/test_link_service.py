"""Every remote Dispatcharr is an integrations Service: the link holds a ForeignKey, the Service the URL and the
encrypted credentials; PUT /api/dispatcharr/settings writes through, and a Service synced from Traefik can be
picked (``service_id``) instead of typing its URL again."""
import pytest

from epg.remote import pushes
from epg.remote.models import DispatcharrLink
from integrations.models import Service

from .links import create_link

pytestmark = pytest.mark.django_db


def traefik_service(fake, **kwargs):
    values = dict(name="dispatcharr", source=Service.Source.TRAEFIK, traefik_router="dispatcharr@docker",
                  url="https://dispatcharr.example.org", api_url=fake.url, service_type="dispatcharr")
    values.update(kwargs)
    return Service.objects.create(**values)


def test_a_service_synced_from_traefik_is_picked_and_gets_the_credentials(admin_client_jwt, dispatcharr):
    synced = traefik_service(dispatcharr)
    response = admin_client_jwt.put("/api/dispatcharr/settings", {
        "enabled": True, "service_id": synced.pk, "username": dispatcharr.username,
        "password": dispatcharr.password}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["url"] == dispatcharr.url and response.json()["epg_id"] == 21
    assert "service_id" not in response.json()  # the contract's shape
    link = DispatcharrLink.objects.get()
    assert link.service_id == synced.pk and Service.objects.count() == 1
    synced.refresh_from_db()
    assert (synced.api_username, synced.api_password, synced.source) == (
        dispatcharr.username, dispatcharr.password, "traefik")


def test_an_unknown_service_id_is_a_400(admin_client_jwt, dispatcharr):
    response = admin_client_jwt.put("/api/dispatcharr/settings", {"service_id": 987654}, format="json")
    assert response.status_code == 400
    assert response.json() == {"service_id": ["No service with id 987654."]}
    response = admin_client_jwt.put("/api/dispatcharr/settings", {"service_id": 2**63}, format="json")
    assert response.status_code == 400 and list(response.json()) == ["service_id"]
    assert not DispatcharrLink.objects.exists()


def test_a_picked_service_with_another_url_is_refused(admin_client_jwt, dispatcharr):
    synced = traefik_service(dispatcharr)
    response = admin_client_jwt.put("/api/dispatcharr/settings", {
        "service_id": synced.pk, "url": "http://elsewhere:9191", "username": "admin", "password": "x"},
        format="json")
    assert response.status_code == 400
    assert response.json() == {"url": [f"The picked service's URL is {dispatcharr.url}: leave the URL out or give "
                                       "that one."]}


def test_typing_a_new_url_updates_the_manual_service_in_place(admin_client_jwt, dispatcharr, fake_server):
    from .fake_dispatcharr import make_fake

    admin_client_jwt.put("/api/dispatcharr/settings", {
        "enabled": True, "url": dispatcharr.url, "username": dispatcharr.username,
        "password": dispatcharr.password}, format="json")
    service = DispatcharrLink.objects.get().service
    moved = make_fake(fake_server())
    response = admin_client_jwt.put("/api/dispatcharr/settings", {"url": moved.url}, format="json")
    assert response.status_code == 200, response.content
    assert Service.objects.count() == 1
    service.refresh_from_db()
    assert service.api_url == moved.url and service.api_password == dispatcharr.password
    assert moved.logins == 1


def test_typing_a_url_on_a_picked_traefik_service_moves_the_link_to_a_manual_one(admin_client_jwt, dispatcharr,
                                                                                  fake_server):
    from .fake_dispatcharr import make_fake

    synced = traefik_service(dispatcharr, api_username="admin", api_password=dispatcharr.password)
    link = DispatcharrLink.objects.create(service=synced, enabled=True, epg_id=21)
    other = make_fake(fake_server())
    response = admin_client_jwt.put("/api/dispatcharr/settings", {"url": other.url}, format="json")
    assert response.status_code == 200, response.content
    link.refresh_from_db()
    assert link.service_id != synced.pk
    assert (link.service.source, link.service.service_type, link.service.api_url) == ("manual", "dispatcharr",
                                                                                     other.url)
    assert link.service.api_password == dispatcharr.password  # the credentials came along
    synced.refresh_from_db()
    assert synced.api_url == dispatcharr.url  # the synced service is left as Traefik says


def test_the_push_uses_the_credentials_on_the_service(dispatcharr, clock):
    link = create_link(url=dispatcharr.url, username="admin", password="old-wrong-pass", enabled=True, epg_id=21)
    link.service.api_password = dispatcharr.password  # changed in integrations, not on the link
    link.service.save()
    assert pushes.push_link(link.pk, final_attempt=True).outcome == "success"


def test_a_deleted_service_leaves_the_link_saying_why(admin_client_jwt, dispatcharr):
    link = create_link(url=dispatcharr.url, username="admin", password=dispatcharr.password, enabled=True, epg_id=21)
    response = admin_client_jwt.delete(f"/api/services/{link.service_id}/")
    assert response.status_code == 204
    link.refresh_from_db()
    assert link.service is None
    settings = admin_client_jwt.get("/api/dispatcharr/settings").json()
    assert (settings["url"], settings["username"], settings["password_set"]) == ("", "", False)
    assert pushes.push_link(link.pk).outcome == "error"
    link.refresh_from_db()
    assert link.last_message == ("No Dispatcharr service is linked (it was deleted): pick a service or enter the "
                                 "URL and credentials again.")
    assert dispatcharr.server.calls == []


def test_a_link_whose_service_was_deleted_can_be_disabled_without_typing_credentials(admin_client_jwt, dispatcharr):
    # it answered 400 {"url", "username", "password": required}: the orphaned link kept failing after every import
    link = create_link(url=dispatcharr.url, username="admin", password=dispatcharr.password, enabled=True, epg_id=21)
    admin_client_jwt.delete(f"/api/services/{link.service_id}/")
    services_before = Service.objects.count()
    response = admin_client_jwt.put("/api/dispatcharr/settings", {"enabled": False}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["enabled"] is False
    link.refresh_from_db()
    assert (link.enabled, link.service) == (False, None)
    assert Service.objects.count() == services_before  # no empty Service made up
    assert dispatcharr.server.calls == []
    response = admin_client_jwt.put("/api/dispatcharr/settings", {"enabled": True}, format="json")
    assert response.status_code == 400  # enabling it again needs a service
    assert set(response.json()) == {"url", "username", "password"}


def test_a_disabled_service_is_not_pushed_to(dispatcharr):
    link = create_link(url=dispatcharr.url, username="admin", password=dispatcharr.password, enabled=True, epg_id=21)
    Service.objects.filter(pk=link.service_id).update(enabled=False)
    assert pushes.push_link(link.pk).outcome == "error"
    link.refresh_from_db()
    assert link.last_message == f"The service '{link.service.name}' is disabled in integrations: not pushing."
    assert dispatcharr.server.calls == []


def test_the_client_is_built_from_the_service(dispatcharr):
    from epg.remote.clients import dispatcharr_client

    link = create_link(url=dispatcharr.url, username="admin", password=dispatcharr.password, verify_tls=False)
    client = dispatcharr_client(link.service)
    assert (client.base_url, client.auth_type, client.username, client.verify) == (
        dispatcharr.url, "jwt", "admin", False)
    assert (client.auth_endpoint, client.refresh_endpoint) == ("/api/accounts/token/", "/api/accounts/token/refresh/")


@pytest.mark.parametrize("api_url", ["http://[::1", "http://", "ftp://files.example"])
def test_a_picked_service_with_an_unusable_url_is_a_400(admin_client_jwt, api_url):
    broken = Service.objects.create(name="broken", api_url=api_url, service_type="dispatcharr")
    response = admin_client_jwt.put("/api/dispatcharr/settings", {
        "service_id": broken.pk, "username": "admin", "password": "pw-1"}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["service_id"]
    assert response.json()["service_id"][0].startswith("The service 'broken' has no usable URL: ")
    assert not DispatcharrLink.objects.exists()
