"""Auth of /previews/api: the web token (X-Auth-Token or Bearer), JWT, sessions from /login and
/api/auth/login, the open endpoints, and the per-IP rate limits with their headers."""
import pytest

pytestmark = pytest.mark.django_db

RATE_HEADERS = {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"}


def test_health_is_open(api_client):
    response = api_client.get("/previews/api/health")
    assert response.status_code == 200
    assert response.json() == {"status": "healthy", "version": "3.7.5"}


def test_setup_status_is_open(api_client):
    response = api_client.get("/previews/api/setup/status")
    assert response.status_code == 200
    assert response.json() == {"configured": False, "setup_complete": False, "current_step": 0,
                               "plex_authenticated": False}


def test_without_a_token_the_api_answers_401_unauthorized(api_client):
    response = api_client.get("/previews/api/jobs")
    assert response.status_code == 401
    assert set(response.json()) == {"error", "code"}
    assert response.json()["code"] == "UNAUTHORIZED"


def test_a_wrong_token_is_401(api_client, web_token):
    api_client.credentials(HTTP_X_AUTH_TOKEN="wrong-token")
    response = api_client.get("/previews/api/jobs")
    assert response.status_code == 401
    assert response.json() == {"error": "Invalid token.", "code": "UNAUTHORIZED"}


@pytest.mark.parametrize("header", ["HTTP_X_AUTH_TOKEN", "HTTP_AUTHORIZATION"])
def test_the_web_token_works_in_either_header(api_client, web_token, header):
    value = web_token if header == "HTTP_X_AUTH_TOKEN" else f"Bearer {web_token}"
    api_client.credentials(**{header: value})
    assert api_client.get("/previews/api/jobs").json() == {"jobs": []}


def test_a_jwt_works(admin_client_jwt):
    assert admin_client_jwt.get("/previews/api/jobs").status_code == 200


def test_api_login_starts_a_session(api_client, web_token):
    response = api_client.post("/previews/api/auth/login", {"token": web_token}, format="json")
    assert response.status_code == 200
    assert response.json() == {"success": True}
    assert RATE_HEADERS <= set(response.headers)
    assert api_client.get("/previews/api/settings").status_code == 200


def test_api_login_with_a_wrong_token_is_401_and_no_session(api_client, web_token):
    response = api_client.post("/previews/api/auth/login", {"token": "nope"}, format="json")
    assert response.status_code == 401
    assert response.json() == {"error": "Invalid token.", "code": "UNAUTHORIZED"}
    assert api_client.get("/previews/api/settings").status_code == 401


def test_api_login_without_a_token_is_a_validation_error(api_client, web_token):
    response = api_client.post("/previews/api/auth/login", {}, format="json")
    assert response.status_code == 400
    assert response.json() == {"error": "token: This field is required.", "code": "VALIDATION_ERROR"}


def test_form_login_starts_a_session_and_redirects_to_the_dashboard(api_client, web_token):
    response = api_client.post("/previews/login", {"token": web_token})
    assert response.status_code == 302
    assert response.headers["Location"] == "/previews/"
    assert api_client.get("/previews/api/settings").status_code == 200


def test_form_login_shows_a_form(api_client):
    response = api_client.get("/previews/login")
    assert response.status_code == 200
    assert b'name="token"' in response.content


def test_form_login_is_limited_to_5_a_minute_per_ip(api_client, web_token, clock):
    for n in range(5):
        response = api_client.post("/previews/login", {"token": "wrong"})
        assert response.status_code == 401
        assert response.headers["X-RateLimit-Limit"] == "5"
        assert response.headers["X-RateLimit-Remaining"] == str(4 - n)
    response = api_client.post("/previews/login", {"token": web_token})
    assert response.status_code == 429
    assert response.json() == {"error": f"Rate limit exceeded: 5/minute. Try again in {response.headers['Retry-After']} s.",
                               "code": "RATE_LIMITED"}
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert response.headers["X-RateLimit-Remaining"] == "0"
    assert int(response.headers["X-RateLimit-Reset"]) > clock.time()
    clock.travel(61)
    assert api_client.post("/previews/login", {"token": web_token}).status_code == 302


def test_api_login_is_limited_to_10_a_minute_per_ip(api_client, web_token):
    for _ in range(10):
        assert api_client.post("/previews/api/auth/login", {"token": "x"}, format="json").status_code == 401
    response = api_client.post("/previews/api/auth/login", {"token": web_token}, format="json")
    assert response.status_code == 429
    assert response.json()["code"] == "RATE_LIMITED"
    assert response.headers["X-RateLimit-Limit"] == "10"


def test_the_limits_are_per_client_ip(api_client, web_token):
    for _ in range(5):
        api_client.post("/previews/login", {"token": "wrong"}, REMOTE_ADDR="10.0.0.1")
    assert api_client.post("/previews/login", {"token": "wrong"}, REMOTE_ADDR="10.0.0.1").status_code == 429
    assert api_client.post("/previews/login", {"token": "wrong"}, REMOTE_ADDR="10.0.0.2").status_code == 401


def test_the_default_limit_counts_unauthenticated_requests_only(api_client, web_token, settings):
    settings.PREVIEWS_DEFAULT_RATES = "200/day;3/hour"
    for _ in range(3):
        assert api_client.get("/previews/api/jobs").status_code == 401
    response = api_client.get("/previews/api/health")
    assert response.status_code == 429
    assert response.json()["code"] == "RATE_LIMITED"
    api_client.credentials(HTTP_X_AUTH_TOKEN=web_token)
    for _ in range(5):  # the dashboard polls: authenticated requests are not limited
        assert api_client.get("/previews/api/jobs").status_code == 200


def test_unknown_urls_are_404_not_found(client):
    response = client.get("/previews/api/nothing-here")
    assert response.status_code == 404
    assert response.json()["code"] == "NOT_FOUND"


def test_the_page_after_login_lists_the_jobs_and_needs_a_session(api_client, web_token):
    from previews.models import Job

    Job.objects.create(library_id="1", library_name="<Movies>", status="completed")
    assert api_client.get("/previews/").headers["Location"] == "/previews/login"
    api_client.post("/previews/login", {"token": web_token})
    page = api_client.get("/previews/")
    assert page.status_code == 200 and b"&lt;Movies&gt;" in page.content and b"completed" in page.content


def test_behind_a_trusted_proxy_the_limits_key_on_the_forwarded_client(api_client, web_token, settings):
    settings.TRUSTED_PROXIES = ["10.9.9.9"]
    proxy = {"REMOTE_ADDR": "10.9.9.9"}
    for _ in range(5):
        api_client.post("/previews/login", {"token": "wrong"}, HTTP_X_FORWARDED_FOR="203.0.113.5", **proxy)
    assert api_client.post("/previews/login", {"token": "wrong"}, HTTP_X_FORWARDED_FOR="203.0.113.5",
                           **proxy).status_code == 429
    assert api_client.post("/previews/login", {"token": "wrong"}, HTTP_X_FORWARDED_FOR="203.0.113.6",
                           **proxy).status_code == 401
    # a client that is not the proxy cannot pick its own address
    for _ in range(5):
        api_client.post("/previews/login", {"token": "wrong"}, HTTP_X_FORWARDED_FOR="198.51.100.1",
                        REMOTE_ADDR="192.0.2.1")
    assert api_client.post("/previews/login", {"token": "wrong"}, HTTP_X_FORWARDED_FOR="198.51.100.2",
                           REMOTE_ADDR="192.0.2.1").status_code == 429
