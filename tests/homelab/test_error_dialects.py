"""Each API keeps its own error dialect for 400, 401, 404 and 500 (DESIGN.md, "Error bodies")."""
import logging

import pytest

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.homelab.dialect_urls")]

# name -> (a URL under the real mount, the 400 body, the 401 body, the 404 body, the 500 body)
DIALECTS = {
    "accounts": (
        "/api/accounts/nope",
        {"name": ["This field is required."]},
        {"detail": "Authentication credentials were not provided."},
        {"detail": "Not found."},
        {"detail": "A server error occurred."},
    ),
    "epg": (
        "/api/epg/nope/",
        {"name": ["This field is required."]},
        {"detail": "Authentication credentials were not provided."},
        {"detail": "Not found."},
        {"detail": "A server error occurred."},
    ),
    "iptv": (
        "/iptv/nope",
        {"name": ["This field is required."]},
        {"detail": "Authentication credentials were not provided."},
        {"detail": "Not found."},
        {"detail": "A server error occurred."},
    ),
    "services": (
        "/api/services/nope/",
        {"success": False, "error": "name: This field is required."},
        {"success": False, "error": "Authentication credentials were not provided."},
        {"success": False, "error": "Not found."},
        {"success": False, "error": "A server error occurred."},
    ),
    "previews": (
        "/previews/api/nope",
        {"error": "name: This field is required.", "code": "VALIDATION_ERROR"},
        {"error": "Authentication credentials were not provided.", "code": "UNAUTHORIZED"},
        {"error": "Not found.", "code": "NOT_FOUND"},
        {"error": "A server error occurred.", "code": "SERVER_ERROR"},
    ),
    "invites": (
        "/invites/api/nope",
        {"error": "name: This field is required."},
        {"error": "API key required"},
        {"error": "Not found."},
        {"error": "A server error occurred."},
    ),
}


@pytest.mark.parametrize("name", DIALECTS)
def test_400(api_client, name):
    response = api_client.post(f"/__dialect__/{name}/bad", {}, format="json")
    assert response.status_code == 400
    assert response.json() == DIALECTS[name][1]


@pytest.mark.parametrize("name", DIALECTS)
def test_401_without_credentials(api_client, name):
    response = api_client.get(DIALECTS[name][0])
    assert response.status_code == 401
    assert response.json() == DIALECTS[name][2]


@pytest.mark.parametrize("name", DIALECTS)
def test_404_for_an_unknown_url_under_the_mount(api_client, admin_user, name):
    api_client.force_authenticate(admin_user)
    response = api_client.get(DIALECTS[name][0])
    assert response.status_code == 404
    assert response.json() == DIALECTS[name][3]


@pytest.mark.parametrize("name", DIALECTS)
def test_500_logs_the_traceback_and_leaks_nothing(api_client, name, caplog):
    caplog.set_level(logging.ERROR, logger="homelab.errors")
    response = api_client.get(f"/__dialect__/{name}/boom")
    assert response.status_code == 500
    assert response.json() == DIALECTS[name][4]
    assert "internal detail" not in response.content.decode()
    record = next(r for r in caplog.records if r.name == "homelab.errors")
    assert record.exc_info and "RuntimeError" in caplog.text


def test_invites_says_invalid_api_key_for_a_wrong_key(api_client):
    response = api_client.get("/invites/api/nope", HTTP_X_API_KEY="wrong")
    assert response.status_code == 401
    assert response.json() == {"error": "Invalid API key"}


def test_previews_wrong_token_is_unauthorized(api_client):
    response = api_client.get("/previews/api/nope", HTTP_X_AUTH_TOKEN="wrong")
    assert response.status_code == 401
    assert response.json() == {"error": "Invalid token.", "code": "UNAUTHORIZED"}


def test_a_missing_trailing_slash_is_redirected_keeping_the_method(api_client, admin_user):
    response = api_client.post("/api/accounts/token?x=1", {"username": "admin", "password": "s3cret-pass"},
                               format="json")
    assert response.status_code == 308
    assert response["Location"] == "/api/accounts/token/?x=1"


@pytest.mark.parametrize("name, body", [
    ("epg", {"detail": "The request body is too large."}),
    ("services", {"success": False, "error": "The request body is too large."}),
    ("previews", {"error": "The request body is too large.", "code": "PAYLOAD_TOO_LARGE"}),
])
def test_a_body_over_the_upload_limit_is_413_not_500(api_client, settings, name, body):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    assert api_client.post(f"/__dialect__/{name}/raw", "x" * 900, content_type="text/plain").json() == {"size": 900}
    response = api_client.post(f"/__dialect__/{name}/raw", "x" * 5000, content_type="text/plain")
    assert response.status_code == 413
    assert response.json() == body


@pytest.mark.parametrize("name", DIALECTS)
def test_a_row_gone_mid_request_is_404_in_the_dialect(api_client, name):
    response = api_client.get(f"/__dialect__/{name}/gone")
    assert response.status_code == 404
    assert response.json() == DIALECTS[name][3]
