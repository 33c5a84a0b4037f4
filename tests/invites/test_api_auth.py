"""Auth of /invites/api: X-API-Key (homelab's hashed keys), JWT and sessions; Wizarr's exact messages."""
import pytest

ENDPOINTS = ["/invites/api/status", "/invites/api/users", "/invites/api/invitations", "/invites/api/libraries",
             "/invites/api/servers", "/invites/api/api-keys"]


@pytest.mark.parametrize("url", ENDPOINTS)
def test_no_key_is_401_api_key_required(api_client, db, url):
    r = api_client.get(url)
    assert r.status_code == 401
    assert r.json() == {"error": "API key required"}


@pytest.mark.parametrize("url", ENDPOINTS)
def test_a_wrong_key_is_401_invalid_api_key(api_client, db, url):
    r = api_client.get(url, HTTP_X_API_KEY="not-a-key")
    assert r.status_code == 401
    assert r.json() == {"error": "Invalid API key"}


def test_a_revoked_key_is_401_invalid_api_key(api_client, api_key):
    api_key.revoke()
    r = api_client.get("/invites/api/status", HTTP_X_API_KEY=api_key.raw)
    assert r.status_code == 401 and r.json() == {"error": "Invalid API key"}


def test_a_jwt_works_too(admin_client_jwt):
    r = admin_client_jwt.get("/invites/api/status")
    assert r.status_code == 200 and set(r.json()) == {"users", "invites", "pending", "expired"}


def test_a_session_works_too(client, admin_user):
    client.force_login(admin_user)
    assert client.get("/invites/api/status").status_code == 200


def test_unknown_paths_are_404_in_wizarrs_dialect(api):
    r = api.get("/invites/api/nothing-here")
    assert r.status_code == 404 and set(r.json()) == {"error"}


def test_a_trailing_slash_is_accepted(api):
    assert api.get("/invites/api/status/").status_code == 200


def test_server_writes_need_staff(api_client, django_user_model):
    from homelab.models import APIKey

    user = django_user_model.objects.create_user("bob", password="pw-123456")
    _, raw = APIKey.generate(name="bob's", user=user)
    r = api_client.post("/invites/api/servers", {}, format="json", HTTP_X_API_KEY=raw)
    assert r.status_code == 403 and set(r.json()) == {"error"}
    assert api_client.get("/invites/api/servers", HTTP_X_API_KEY=raw).status_code == 200
