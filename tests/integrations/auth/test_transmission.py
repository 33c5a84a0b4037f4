"""The transmission mode: the X-Transmission-Session-Id handshake."""
from integrations.client import GenericAPIClient


def test_transmission_session_handshake(fake_server):
    srv = fake_server()
    sid = "transmission-session-42"

    @srv.route("POST", "/transmission/rpc")
    def rpc(call):
        if call.headers.get("x-transmission-session-id") != sid:
            return 409, "<h1>409: Conflict</h1>", {"X-Transmission-Session-Id": sid}
        return 200, {"result": "success", "arguments": {"version": "4.0"}}

    client = GenericAPIClient(srv.url, auth_type="transmission")
    assert client.post("/transmission/rpc", json={"method": "session-get"})["result"] == "success"
    assert client.post("/transmission/rpc", json={"method": "session-get"})["result"] == "success"
    assert len(srv.calls) == 3
