"""The none mode: nothing is added; a Service detected as none that has credentials now uses them."""
from integrations.client import GenericAPIClient


def test_nothing_is_added(fake_server):
    srv = fake_server()
    srv.route("GET", "/metrics")(lambda call: (200, "up 1", {"Content-Type": "text/plain"}))
    client = GenericAPIClient(srv.url, auth_type="none")
    assert client.get("/metrics") == "up 1"
    headers = srv.calls[-1].headers
    assert "authorization" not in headers and "x-api-key" not in headers and not srv.calls[-1].query


def test_a_row_detected_as_none_with_a_key_uses_the_key():
    class Row:
        api_url = "http://127.0.0.1:9"
        api_username = api_password = ""
        api_key = "later-key-123456"
        api_auth_type = "none"
        service_type = ""

    assert GenericAPIClient.for_service(Row()).auth_type == "api_key"
