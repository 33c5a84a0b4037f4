"""The setup wizard: state kept, complete, token-info and set-token with the contract's messages."""
import pytest

pytestmark = pytest.mark.django_db


def test_state_is_kept_between_calls(client):
    assert client.get("/previews/api/setup/state").json() == {"step": 0, "data": {}}
    body = {"step": 2, "data": {"server_name": "My Plex Server"}}
    response = client.post("/previews/api/setup/state", body, format="json")
    assert response.status_code == 200
    assert response.json() == {"success": True}
    assert client.get("/previews/api/setup/state").json() == body
    assert client.get("/previews/api/setup/status").json()["current_step"] == 2


@pytest.mark.parametrize("body, field", [({"step": -1}, "step"), ({"step": "two"}, "step"), ({}, "step"),
                                         ({"step": 1, "data": [1, 2]}, "data")])
def test_a_bad_state_is_refused_and_nothing_changes(client, body, field):
    client.post("/previews/api/setup/state", {"step": 3, "data": {"a": 1}}, format="json")
    response = client.post("/previews/api/setup/state", body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION_ERROR"
    assert response.json()["error"].startswith(f"{field}: ")
    assert client.get("/previews/api/setup/state").json() == {"step": 3, "data": {"a": 1}}


def test_complete_marks_the_setup_done(client):
    response = client.post("/previews/api/setup/complete")
    assert response.json() == {"success": True, "redirect": "/"}
    assert client.get("/previews/api/setup/status").json()["setup_complete"] is True


def test_setup_status_reports_the_plex_token_once_configured(client, configured):
    assert client.get("/previews/api/setup/status").json() == {
        "configured": True, "setup_complete": False, "current_step": 0, "plex_authenticated": True}


def test_token_info_shows_the_generated_token(client, web_token):
    assert client.get("/previews/api/setup/token-info").json() == {
        "env_controlled": False, "token": web_token, "token_length": len(web_token), "source": "config"}


def test_token_info_when_the_environment_sets_it(client, web_token, settings):
    settings.WEB_AUTH_TOKEN = "from-the-environment"
    client.credentials(HTTP_X_AUTH_TOKEN="from-the-environment")
    assert client.get("/previews/api/setup/token-info").json() == {
        "env_controlled": True, "token": "from-the-environment", "token_length": 20, "source": "environment"}


def test_set_token_changes_the_web_token(client, api_client):
    body = {"token": "my-custom-password", "confirm_token": "my-custom-password"}
    response = client.post("/previews/api/setup/set-token", body, format="json")
    assert response.status_code == 200
    assert response.json() == {"success": True}
    assert client.get("/previews/api/jobs").status_code == 401  # the old token no longer works
    client.credentials(HTTP_X_AUTH_TOKEN="my-custom-password")
    assert client.get("/previews/api/jobs").status_code == 200


@pytest.mark.parametrize("token, confirm, message", [
    ("my-custom-password", "something-else", "Tokens do not match."),
    ("short", "short", "Token must be at least 8 characters long."),
])
def test_set_token_refusals_use_the_contract_messages(client, web_token, token, confirm, message):
    response = client.post("/previews/api/setup/set-token", {"token": token, "confirm_token": confirm},
                           format="json")
    assert response.status_code == 400
    assert response.json() == {"success": False, "error": message}
    assert client.get("/previews/api/jobs").status_code == 200  # unchanged


def test_set_token_is_refused_when_the_environment_sets_it(client, settings):
    settings.WEB_AUTH_TOKEN = "from-the-environment"
    client.credentials(HTTP_X_AUTH_TOKEN="from-the-environment")
    response = client.post("/previews/api/setup/set-token",
                           {"token": "my-custom-password", "confirm_token": "my-custom-password"}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "success": False,
        "error": "Token is controlled by WEB_AUTH_TOKEN environment variable and cannot be changed."}
