"""/api/services/<id>/proxy/: forwarding, the answer's shape, upstream errors, and hostile paths."""
import json
import logging
import time
from urllib.parse import quote

import pytest

from integrations.models import Service
from tests.integrations import upstreams
from tests.integrations.upstreams import ARR_KEY

pytestmark = pytest.mark.django_db


@pytest.fixture
def arr(fake_server):
    srv = upstreams.arr(fake_server())

    @srv.route("*", "/api/v3/echo")
    def echo(call):
        return 200, {"method": call.method, "query": call.query, "body": call.body.decode(),
                     "content_type": call.headers.get("content-type"),
                     "has_authorization": "authorization" in call.headers,
                     "has_cookie": "cookie" in call.headers, "connection": call.headers.get("connection"),
                     "key_ok": call.headers.get("x-api-key") == ARR_KEY}

    @srv.route("GET", "/api/v3/text")
    def text(call):
        return 200, "plain words"

    @srv.route("GET", "/api/v3/missing")
    def missing(call):
        return 404, {"message": "NotFound"}

    @srv.route("GET", "/api/v3/boom")
    def boom(call):
        return 500, {"message": "boom"}

    @srv.route("GET", "/api/v3/echo-key")
    def echo_key(call):
        return 200, {"your_key": call.headers.get("x-api-key")}

    @srv.route("GET", "/api/v3/slow")
    def slow(call):
        time.sleep(1.5)
        return 200, {}

    @srv.route("GET", "/api/v3/big")
    def big(call):
        return 200, "x" * 5000

    return srv


@pytest.fixture
def service(arr):
    return Service.objects.create(name="sonarr", api_url=arr.url, api_key=ARR_KEY, service_type="sonarr")


def proxy_url(service, path, **params):
    extra = "".join(f"&{k}={quote(str(v))}" for k, v in params.items())
    return f"/api/services/{service.pk}/proxy/?path={quote(path, safe='/')}{extra}"


def test_get_is_wrapped_in_success_data(admin_client_jwt, service):
    response = admin_client_jwt.get(proxy_url(service, "/api/v3/system/status"))
    assert response.status_code == 200
    assert response.json() == {"success": True, "data": {"appName": "Sonarr", "version": "4.0.0"}}


def test_query_parameters_and_json_body_are_forwarded(admin_client_jwt, service, arr):
    response = admin_client_jwt.post(proxy_url(service, "/api/v3/echo", filter="downloading", category="movies"),
                                     {"name": "test"}, format="json")
    data = response.json()["data"]
    assert data["method"] == "POST" and data["query"] == {"filter": "downloading", "category": "movies"}
    repeated = admin_client_jwt.get(proxy_url(service, "/api/v3/echo") + "&ids=1&ids=2").json()["data"]
    assert repeated["query"] == {"ids": ["1", "2"]}
    assert data["body"] == '{"name":"test"}' and data["content_type"] == "application/json"
    assert data["key_ok"] is True
    assert data["has_authorization"] is False  # the caller's own JWT never reaches the service
    for method in ("put", "patch", "delete"):
        answer = getattr(admin_client_jwt, method)(proxy_url(service, "/api/v3/echo"), {"a": 1}, format="json")
        assert answer.json()["data"]["method"] == method.upper()


def test_text_answers_are_data_strings(admin_client_jwt, service):
    assert admin_client_jwt.get(proxy_url(service, "/api/v3/text")).json() == {"success": True, "data": "plain words"}


def test_upstream_4xx_is_passed_through(admin_client_jwt, service):
    response = admin_client_jwt.get(proxy_url(service, "/api/v3/missing"))
    assert response.status_code == 404
    body = response.json()
    assert body["success"] is False and "HTTP 404" in body["error"]


def test_upstream_5xx_is_502(admin_client_jwt, service):
    response = admin_client_jwt.get(proxy_url(service, "/api/v3/boom"))
    assert response.status_code == 502 and response.json()["success"] is False


def test_unreachable_is_502_and_timeout_504(admin_client_jwt, service, settings):
    settings.HTTP_READ_TIMEOUT = 0.5
    assert admin_client_jwt.get(proxy_url(service, "/api/v3/slow")).status_code == 504
    service.api_url = "http://127.0.0.1:9"
    service.save()
    response = admin_client_jwt.get(proxy_url(service, "/api/v3/system/status"))
    assert response.status_code == 502 and response.json()["error"].startswith("Upstream unreachable")


def test_the_body_read_is_capped(admin_client_jwt, service, settings):
    settings.SERVICE_PROXY_MAX_BYTES = 1000
    response = admin_client_jwt.get(proxy_url(service, "/api/v3/big"))
    assert response.status_code == 502 and "limit" in response.json()["error"]


def test_credentials_are_never_in_the_answer_or_the_logs(admin_client_jwt, service, caplog):
    with caplog.at_level(logging.DEBUG):
        response = admin_client_jwt.get(proxy_url(service, "/api/v3/echo-key"))
        admin_client_jwt.get(proxy_url(service, "/api/v3/missing"))
        detail = admin_client_jwt.get(f"/api/services/{service.pk}/")
    assert response.json() == {"success": True, "data": {"your_key": "****"}}
    assert ARR_KEY not in response.content.decode() + detail.content.decode() + caplog.text


def test_only_authenticated_users(api_client, service, arr):
    response = api_client.get(proxy_url(service, "/api/v3/system/status"))
    assert response.status_code == 401 and response.json()["success"] is False
    assert arr.calls == []


def test_a_disabled_service_is_refused_with_nothing_sent(admin_client_jwt, service, arr):
    Service.objects.filter(pk=service.pk).update(enabled=False)
    sent = len(arr.calls)
    response = admin_client_jwt.get(proxy_url(service, "/api/v3/system/status"))
    assert response.status_code == 409
    assert response.json() == {"success": False, "error": "Service 'sonarr' is disabled"}
    assert len(arr.calls) == sent


def test_unknown_service_is_404(admin_client_jwt):
    response = admin_client_jwt.get("/api/services/999/proxy/?path=/api")
    assert response.status_code == 404 and response.json()["success"] is False


HOSTILE = [
    "", "api/v3", "http://evil.example/x", "https://evil.example", "//evil.example/x", "///evil.example",
    "/%2F%2Fevil.example", "%2F%2Fevil.example", "/api/../admin", "/api/%2e%2e/admin", "/api/%252e%252e/admin",
    "/api%2F..%2Fadmin", "/@evil.example", "/api@evil.example/x", "/api/%40evil", "\\\\evil.example\\x",
    "/api\\..\\admin", "/api/%5c..%5cadmin", "/api\r\nHost: evil", "/api%0d%0aX-Injected: 1", "/api/%00",
    "/api/x#frag", "javascript:alert(1)", "/./api", "/api/.", "/..", "/%2e%2e/%2e%2e/etc/passwd",
]


@pytest.mark.parametrize("path", HOSTILE)
def test_hostile_paths_are_refused_with_nothing_sent(admin_client_jwt, service, arr, path):
    response = admin_client_jwt.get(f"/api/services/{service.pk}/proxy/?path={quote(path, safe='')}")
    assert response.status_code == 400, path
    assert response.json()["success"] is False
    assert arr.calls == []


def test_redirects_to_other_hosts_are_not_followed(admin_client_jwt, service, arr, fake_server):
    evil = fake_server()
    arr.route("GET", "/api/v3/redirect")(lambda call: (302, "", {"Location": evil.url + "/steal"}))
    response = admin_client_jwt.get(proxy_url(service, "/api/v3/redirect"))
    assert response.status_code == 502
    assert evil.calls == []


def test_a_login_service_is_proxied_with_a_shared_login(admin_client_jwt, fake_server):
    srv = fake_server()
    portainer = upstreams.Portainer(srv)
    svc = Service.objects.create(name="portainer", api_url=srv.url, api_username=upstreams.USER,
                                 api_password=upstreams.PASSWORD, service_type="portainer")
    for _ in range(3):
        response = admin_client_jwt.get(proxy_url(svc, "/api/endpoints"))
        assert response.json() == {"success": True, "data": [{"Id": 1, "Name": "local"}]}
    assert portainer.logins == 1
    assert upstreams.PASSWORD not in response.content.decode()


def test_an_upstream_304_is_not_modified_not_a_redirect(admin_client_jwt, service, arr):
    arr.route("GET", "/api/v3/cached")(lambda call: (304, None, {"ETag": '"v1"'}))
    response = admin_client_jwt.get(proxy_url(service, "/api/v3/cached"), HTTP_IF_NONE_MATCH='"v1"')
    assert response.status_code == 304
    assert response.content == b""
    assert arr.calls_to("/api/v3/cached")[0].headers["if-none-match"] == '"v1"'


def test_missing_credentials_are_a_400_not_an_unreachable_upstream(admin_client_jwt, fake_server):
    srv = fake_server()
    upstreams.Dispatcharr(srv)
    svc = Service.objects.create(name="dispatcharr", api_url=srv.url, service_type="dispatcharr")
    response = admin_client_jwt.get(proxy_url(svc, "/api/epg/sources/"))
    assert response.status_code == 400
    assert response.json() == {"success": False,
                               "error": "jwt authentication needs a username and a password"}
    assert srv.calls == []


def test_a_json_body_goes_as_a_form_to_a_form_login_service(admin_client_jwt, fake_server):
    # the guide's fetch example posts JSON; qBittorrent (cookie mode) only reads forms, as the client sends them
    srv = fake_server()
    qbt = upstreams.QBittorrent(srv)
    svc = Service.objects.create(name="qbittorrent", api_url=srv.url, api_username=upstreams.USER,
                                 api_password=upstreams.PASSWORD, service_type="qbittorrent")
    response = admin_client_jwt.post(proxy_url(svc, "/api/v2/torrents/add"), {"urls": "magnet:?xt=urn:btih:abc"},
                                     format="json")
    assert response.json() == {"success": True, "data": "added magnet:?xt=urn:btih:abc"}
    call = srv.calls_to("/api/v2/torrents/add")[-1]
    assert call.headers["content-type"] == "application/x-www-form-urlencoded"
    # a form stays a form
    response = admin_client_jwt.generic("POST", proxy_url(svc, "/api/v2/torrents/add"), "urls=magnet%3A%3Fx",
                                        content_type="application/x-www-form-urlencoded")
    assert response.json() == {"success": True, "data": "added magnet:?x"}
    assert qbt.logins == 1


def test_a_repeated_path_is_refused(admin_client_jwt, service, arr):
    # which of two paths was meant is anyone's guess (a checker in front may have looked at the other one)
    response = admin_client_jwt.get(proxy_url(service, "/api/v3/system/status") + "&path=/api/v3/echo")
    assert response.status_code == 400
    assert response.json() == {"success": False, "error": "path must be given once"}
    assert arr.calls == []


def test_text_without_a_charset_is_read_as_utf8(admin_client_jwt, service, arr):
    # requests assumes ISO-8859-1 for text/* without a charset; services send UTF-8 (torrent names, metrics)
    arr.route("GET", "/api/v3/name")(lambda call: (200, "Amélie – 日本".encode(), {"Content-Type": "text/plain"}))
    arr.route("GET", "/api/v3/latin")(lambda call: (200, "Amélie".encode("latin-1"),
                                                     {"Content-Type": "text/plain; charset=ISO-8859-1"}))
    assert admin_client_jwt.get(proxy_url(service, "/api/v3/name")).json() == {"success": True, "data": "Amélie – 日本"}
    assert admin_client_jwt.get(proxy_url(service, "/api/v3/latin")).json() == {"success": True, "data": "Amélie"}


def test_echoed_secrets_are_masked_in_any_encoding(admin_client_jwt, fake_server):
    # a password with quotes, backslashes and non-ASCII, and the Basic header made of it, echoed by the service
    import base64

    password = 'pä"ss\\wörd-123'
    basic = base64.b64encode(f"admin:{password}".encode()).decode()
    srv = fake_server()
    srv.route("GET", "/api/echo")(lambda call: (200, {"auth": call.headers.get("authorization"), "pw": password}))
    srv.route("GET", "/api/fail")(lambda call: (400, {"auth": call.headers.get("authorization"), "pw": password}))
    svc = Service.objects.create(name="echo", api_url=srv.url, api_username="admin", api_password=password,
                                 api_auth_type="basic")
    ok = admin_client_jwt.get(proxy_url(svc, "/api/echo"))
    failed = admin_client_jwt.get(proxy_url(svc, "/api/fail"))
    assert ok.json()["success"] is True and failed.status_code == 400
    for response in (ok, failed):
        text = response.content.decode()
        for leak in (password, basic, json.dumps(password), json.dumps(password, ensure_ascii=False)):
            assert leak.strip('"') not in text, leak
            assert leak.strip('"') not in json.dumps(response.json(), ensure_ascii=False)


def test_a_secret_at_the_error_excerpt_cut_is_not_half_shown(admin_client_jwt, service, arr):
    arr.route("GET", "/api/v3/cut")(lambda call: (400, "e" * 190 + call.headers["x-api-key"]))
    response = admin_client_jwt.get(proxy_url(service, "/api/v3/cut"))
    assert response.status_code == 400 and ARR_KEY[:8] not in response.json()["error"]


def test_a_browser_session_posts_through_the_proxy(admin_user, service, arr):
    # the guide's fetch() example from the dashboard: a session cookie and a CSRF token, not a JWT
    from django.middleware.csrf import _get_new_csrf_string
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=True)
    client.force_login(admin_user)
    secret = _get_new_csrf_string()
    client.cookies["csrftoken"] = secret
    url = proxy_url(service, "/api/v3/echo")
    answer = client.post(url, {"name": "test"}, format="json", HTTP_X_CSRFTOKEN=secret)
    assert answer.status_code == 200, answer.content
    assert answer.json()["data"]["body"] == '{"name":"test"}'
    answer = client.post(url, {"urls": "magnet:?x"}, format="multipart", HTTP_X_CSRFTOKEN=secret)
    assert answer.status_code == 200 and 'name="urls"' in answer.json()["data"]["body"]
    answer = client.post(url, "a=1", content_type="application/x-www-form-urlencoded", HTTP_X_CSRFTOKEN=secret)
    assert answer.json()["data"]["body"] == "a=1"
    # without the token the session is refused, and nothing is sent
    calls = len(arr.calls)
    assert client.post(url, {"name": "x"}, format="json").status_code == 403
    assert len(arr.calls) == calls


@pytest.fixture
def https_upstream(tmp_path):
    """A fake service over HTTPS with a self-signed certificate (Portainer's default on :9443)."""
    import datetime
    import ssl

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    from tests.fakes import FakeServer

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                         serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    srv = FakeServer()
    srv.httpd.socket = ctx.wrap_socket(srv.httpd.socket, server_side=True)
    srv.url = srv.url.replace("http://", "https://")
    srv.route("GET", "/api/system/status")(lambda call: (200, {"Version": "2.19"}))
    srv.start()
    yield srv
    srv.stop()


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_a_self_signed_service_needs_verify_ssl_off_and_says_so(admin_client_jwt, https_upstream):
    svc = Service.objects.create(name="portainer", api_url=https_upstream.url, api_key="pt-key-0123456789",
                                 api_auth_type="api_key")
    refused = admin_client_jwt.get(proxy_url(svc, "/api/system/status"))
    assert refused.status_code == 502
    assert "certificate" in refused.json()["error"] and "verify SSL" in refused.json()["error"]
    assert https_upstream.calls == []
    svc.verify_ssl = False
    svc.save()
    answer = admin_client_jwt.get(proxy_url(svc, "/api/system/status"))
    assert answer.json() == {"success": True, "data": {"Version": "2.19"}}
