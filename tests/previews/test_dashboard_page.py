"""/previews/: the dashboard page needs a session (the web token at /previews/login), draws the jobs at once,
loads only its own script and style sheet (no outside assets), fits a phone, and signs out with a POST."""
import re

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(api_client, web_token):
    response = api_client.post("/previews/login", {"token": web_token})
    assert response.status_code == 302 and response.headers["Location"] == "/previews/"
    return api_client


def test_without_a_session_it_sends_the_browser_to_the_login_form(api_client, web_token):
    assert api_client.get("/previews/").headers["Location"] == "/previews/login"
    api_client.credentials(HTTP_X_AUTH_TOKEN=web_token)  # a header is for the API, the page wants a session
    assert api_client.get("/previews/").status_code == 302


def test_the_page_has_its_parts_and_only_its_own_assets(signed_in, configured):
    page = signed_in.get("/previews/")
    assert page.status_code == 200 and page["Cache-Control"] == "no-store"
    html = page.content.decode()
    for part in ('id="start-form"', 'id="library"', 'id="jobs"', 'id="workers"', 'id="schedules"', 'id="gpus"',
                 'id="live"', 'name="viewport"'):
        assert part in html
    assert 'id="setup-notice"' not in html  # Plex is configured
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert all(a.startswith("/") or a == "data:," for a in assets), assets  # nothing from another host
    for asset in ("/static/previews/dashboard.js", "/static/previews/dashboard.css"):
        assert asset in assets
        served = signed_in.get(asset)
        assert served.status_code == 200 and b"".join(served.streaming_content)
    assert signed_in.get("/previews/api/jobs").status_code == 200  # the script's calls ride the session


def test_without_plex_settings_it_says_what_to_set(signed_in):
    assert 'id="setup-notice"' in signed_in.get("/previews/").content.decode()


def test_sign_out_needs_a_post_and_ends_the_session(signed_in):
    assert signed_in.get("/previews/logout").status_code == 405
    response = signed_in.post("/previews/logout")
    assert response.status_code == 302 and response.headers["Location"] == "/previews/login"
    assert signed_in.get("/previews/").status_code == 302
