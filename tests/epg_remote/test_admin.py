"""Admin of the Dispatcharr links: password write-only, actions Test connection, Discover EPG source, Push now."""
import pytest
from django.contrib.messages import get_messages

from epg.remote.models import DispatcharrLink
from epg.remote.tasks import push_refresh

from .links import create_link

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/epg_remote/dispatcharrlink/"


@pytest.fixture
def admin_web(client, admin_user):
    client.force_login(admin_user)
    return client


def make_link(fake, **kwargs):
    values = dict(url=fake.url, username=fake.username, password=fake.password, enabled=True)
    values.update(kwargs)
    return create_link(**values)


def act(client, action, link):
    response = client.post(CHANGELIST, {"action": action, "_selected_action": [link.pk]}, follow=True)
    assert response.status_code == 200
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_the_change_form_never_shows_the_password(admin_web, dispatcharr):
    link = make_link(dispatcharr)
    response = admin_web.get(f"{CHANGELIST}{link.pk}/change/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'type="password"' in page
    assert dispatcharr.password not in page
    assert admin_web.get(CHANGELIST).status_code == 200


def test_saving_with_a_blank_password_keeps_the_stored_one(admin_web, dispatcharr):
    link = make_link(dispatcharr, auth_failures=2)
    response = admin_web.post(f"{CHANGELIST}{link.pk}/change/", {
        "name": "Living room", "enabled": "on", "url": dispatcharr.url + "/", "username": dispatcharr.username,
        "password": "", "verify_tls": "on", "output_filename": "epg.xml", "epg_id": "21", "epg_name": "x",
        "auth_failures": "2",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    link.refresh_from_db()
    assert link.password == dispatcharr.password and link.name == "Living room"
    assert link.url == dispatcharr.url


def test_a_new_link_needs_a_password(admin_web, dispatcharr):
    response = admin_web.post(f"{CHANGELIST}add/", {
        "url": dispatcharr.url, "username": "admin", "password": "", "output_filename": "epg.xml",
        "auth_failures": "0",
    })
    assert response.status_code == 200
    assert "Enter the Dispatcharr password." in response.content.decode()
    assert not DispatcharrLink.objects.exists()


def test_test_connection_action(admin_web, dispatcharr):
    link = make_link(dispatcharr)
    assert act(admin_web, "test_connection", link) == [f"{link}: Connected to Dispatcharr: 3 EPG sources found."]
    link.service.api_password = "wrong-pass-77"
    link.service.save()
    [message] = act(admin_web, "test_connection", link)
    assert "authentication failed: Invalid username or password" in message


def test_discover_action_stores_the_source(admin_web, dispatcharr):
    link = make_link(dispatcharr)
    assert act(admin_web, "discover_epg_source", link) == [
        f"{link}: Found EPG source '_Teamarr - Detroit Sports' (id 21) for epg.xml."]
    link.refresh_from_db()
    assert (link.epg_id, link.epg_name) == (21, "_Teamarr - Detroit Sports")


def test_push_now_queues_the_task_for_enabled_links(admin_web, dispatcharr, monkeypatch,
                                                    django_capture_on_commit_callbacks):
    on = make_link(dispatcharr)
    off = make_link(dispatcharr, username="other", enabled=False)
    queued = []
    monkeypatch.setattr(push_refresh, "delay", lambda link_id: queued.append(link_id))
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_web.post(CHANGELIST, {"action": "push_refresh_now", "_selected_action": [on.pk, off.pk]},
                                  follow=True)
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert queued == [on.pk]
    assert messages[0].startswith("Queued a push to 1 Dispatcharr link(s)")
    assert messages[1] == f"Not pushed (disabled): {off}"
    assert dispatcharr.server.calls == []


def test_a_new_link_typed_in_goes_to_a_manual_dispatcharr_service(admin_web, dispatcharr):
    from integrations.models import Service

    response = admin_web.post(f"{CHANGELIST}add/", {
        "name": "Den", "url": dispatcharr.url + "/", "username": "admin", "password": dispatcharr.password,
        "verify_tls": "on", "output_filename": "epg.xml",
    })
    assert response.status_code == 302, response.context["adminform"].form.errors
    link = DispatcharrLink.objects.get()
    assert (link.service.source, link.service.service_type, link.service.api_url) == (
        "manual", "dispatcharr", dispatcharr.url)
    assert link.service.api_password == dispatcharr.password and Service.objects.count() == 1


def test_a_service_synced_from_traefik_can_be_picked(admin_web, dispatcharr):
    from integrations.models import Service

    synced = Service.objects.create(name="dispatcharr", source="traefik", traefik_router="dispatcharr@docker",
                                    api_url=dispatcharr.url, service_type="dispatcharr")
    response = admin_web.post(f"{CHANGELIST}add/", {
        "service": synced.pk, "username": "admin", "password": dispatcharr.password, "output_filename": "epg.xml",
    })
    assert response.status_code == 302, response.context["adminform"].form.errors
    link = DispatcharrLink.objects.get()
    assert link.service_id == synced.pk and Service.objects.count() == 1
    synced.refresh_from_db()
    assert synced.api_password == dispatcharr.password and synced.api_url == dispatcharr.url
    page = admin_web.get(f"{CHANGELIST}{link.pk}/change/").content.decode()
    assert dispatcharr.password not in page and dispatcharr.url in page


def change_form(link, fake, **changes):
    values = {"name": link.name, "enabled": "on" if link.enabled else "", "service": link.service_id,
              "url": link.url, "username": link.username, "password": "", "verify_tls": "on",
              "output_filename": link.output_filename, "epg_id": link.epg_id or ""}
    values.update(changes)
    return {k: v for k, v in values.items() if v not in ("", None)}


def test_saving_checks_the_credentials_as_the_api_does(admin_web, dispatcharr):
    link = make_link(dispatcharr, enabled=False, epg_id=21, auth_failures=3)
    response = admin_web.post(f"{CHANGELIST}{link.pk}/change/",
                              change_form(link, dispatcharr, enabled="on", password="wrong-pass-42"))
    assert response.status_code == 200
    errors = response.context["adminform"].form.non_field_errors()
    assert errors == [f"Settings not saved: Listing EPG sources on Dispatcharr at {dispatcharr.url}: authentication "
                      "failed: Invalid username or password"]
    link.refresh_from_db()
    assert not link.enabled and link.auth_failures == 3 and link.password == dispatcharr.password
    assert "wrong-pass-42" not in response.content.decode()


def test_enabling_with_working_credentials_resets_the_failures_and_discovers_the_source(admin_web, dispatcharr):
    link = make_link(dispatcharr, enabled=False, epg_id=None, auth_failures=3, last_result="disabled")
    response = admin_web.post(f"{CHANGELIST}{link.pk}/change/", change_form(link, dispatcharr, enabled="on"))
    assert response.status_code == 302, response.context["adminform"].form.errors
    link.refresh_from_db()
    assert link.enabled and link.auth_failures == 0
    assert (link.epg_id, link.epg_name) == (21, "_Teamarr - Detroit Sports")
    assert dispatcharr.logins == 1


def test_editing_only_the_label_of_a_disabled_link_does_not_contact_the_remote(admin_web, dispatcharr):
    link = make_link(dispatcharr, enabled=False, auth_failures=3)
    response = admin_web.post(f"{CHANGELIST}{link.pk}/change/", change_form(link, dispatcharr, name="Attic"))
    assert response.status_code == 302, response.context["adminform"].form.errors
    link.refresh_from_db()
    assert link.name == "Attic" and link.auth_failures == 3
    assert dispatcharr.server.calls == []


def test_a_link_whose_service_was_deleted_can_be_disabled_in_the_admin(admin_web, dispatcharr):
    # the form said "Enter the Dispatcharr password." and the link kept failing after every import
    link = make_link(dispatcharr, enabled=True, epg_id=21)
    link.service.delete()
    link.refresh_from_db()
    response = admin_web.post(f"{CHANGELIST}{link.pk}/change/", change_form(link, dispatcharr, enabled=""))
    assert response.status_code == 302, response.context["adminform"].form.errors
    link.refresh_from_db()
    assert (link.enabled, link.service) == (False, None)
    assert dispatcharr.server.calls == []


def test_a_passing_test_connection_resets_the_authentication_failures(admin_web, dispatcharr):
    link = make_link(dispatcharr, auth_failures=2)
    assert act(admin_web, "test_connection", link) == [f"{link}: Connected to Dispatcharr: 3 EPG sources found."]
    link.refresh_from_db()
    assert link.auth_failures == 0


def test_the_actions_on_a_link_whose_service_has_an_unusable_url_say_why(admin_web, dispatcharr):
    link = make_link(dispatcharr)
    link.service.api_url = "http://"
    link.service.save()
    [tested] = act(admin_web, "test_connection", link)
    assert tested.startswith(f"{link}: Cannot reach Dispatcharr: Not an http(s) URL")
    [discovered] = act(admin_web, "discover_epg_source", link)
    assert discovered.startswith(f"{link}: Cannot reach Dispatcharr: Not an http(s) URL")
