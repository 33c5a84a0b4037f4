"""GET /api-keys (never the key or its hash) and DELETE /api-keys/{id} (soft delete, not the key in use)."""
from homelab.models import APIKey


def test_the_list_has_the_contract_keys_and_no_secret(api, api_key, admin_user):
    other, raw = APIKey.generate(name="Development Key", user=admin_user)
    r = api.get("/invites/api/api-keys")
    assert r.status_code == 200
    body = r.json()
    assert body["count"] == 2
    assert [set(k) for k in body["api_keys"]] == [{"id", "name", "created_at", "last_used_at", "created_by"}] * 2
    assert {k["created_by"] for k in body["api_keys"]} == {"admin"}
    text = r.content.decode()
    assert raw not in text and api_key.raw not in text and other.key_hash not in text and api_key.key_hash not in text


def test_delete_soft_deletes_and_the_key_then_fails(api, admin_user):
    from rest_framework.test import APIClient

    other, raw = APIKey.generate(name="Development Key", user=admin_user)
    r = api.delete(f"/invites/api/api-keys/{other.pk}")
    assert r.status_code == 200
    assert r.json() == {"message": "API key 'Development Key' deleted successfully"}
    other.refresh_from_db()
    assert other.is_active is False
    assert APIClient().get("/invites/api/status", HTTP_X_API_KEY=raw).json() == {"error": "Invalid API key"}
    assert [k["id"] for k in api.get("/invites/api/api-keys").json()["api_keys"]] != [other.pk]
    assert api.delete(f"/invites/api/api-keys/{other.pk}").json() == {"error": "API key not found"}


def test_the_key_in_use_cannot_be_deleted(api, api_key):
    r = api.delete(f"/invites/api/api-keys/{api_key.pk}")
    assert r.status_code == 400
    assert r.json() == {"error": "Cannot delete the API key currently being used"}
    api_key.refresh_from_db()
    assert api_key.is_active


def test_unknown_and_huge_ids_are_404(api):
    assert api.delete("/invites/api/api-keys/424242").json() == {"error": "API key not found"}
    r = api.delete("/invites/api/api-keys/9223372036854775807")
    assert r.status_code == 404 and r.json() == {"error": "API key not found"}
    for url in ("/invites/api/api-keys/9999999999999999999", "/invites/api/api-keys/%0A%3B", "/invites/api/api-keys/x"):
        r = api.delete(url)
        assert r.status_code == 404 and r.json() == {"error": "Not found."}


def test_a_non_staff_key_sees_and_deletes_only_its_own_keys(api, api_key, django_user_model):
    """A key of a user who is not staff may not list or revoke the administrator's keys."""
    from rest_framework.test import APIClient

    plain = django_user_model.objects.create_user("plain", password="x")
    own, raw = APIKey.generate(name="Plain key", user=plain)
    spare, _ = APIKey.generate(name="Plain spare", user=plain)
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=raw)
    body = client.get("/invites/api/api-keys").json()
    assert [k["name"] for k in body["api_keys"]] == ["Plain key", "Plain spare"] and body["count"] == 2
    r = client.delete(f"/invites/api/api-keys/{api_key.pk}")
    assert r.status_code == 404 and r.json() == {"error": "API key not found"}
    api_key.refresh_from_db()
    assert api_key.is_active
    assert client.delete(f"/invites/api/api-keys/{spare.pk}").status_code == 200
    assert api.get("/invites/api/api-keys").json()["count"] == 2  # staff: every active key
