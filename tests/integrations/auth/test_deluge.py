"""The deluge mode: JSON-RPC auth.login and the session cookie."""
import pytest

from integrations.client import AuthError, GenericAPIClient


def fake_deluge(srv, password="deluge-pass"):
    """Deluge Web's JSON-RPC at /json: auth.login sets _session_id; other methods need it (error code 1)."""
    state = {"sessions": set(), "logins": 0}

    @srv.route("POST", "/json")
    def rpc(call):
        body = call.json()
        if body["method"] == "auth.login":
            state["logins"] += 1
            if body["params"] != [password]:
                return 200, {"result": False, "error": None, "id": body["id"]}
            sid = f"sid{state['logins']}"
            state["sessions"].add(sid)
            return 200, {"result": True, "error": None, "id": body["id"]}, {"Set-Cookie": f"_session_id={sid}; Path=/json"}
        if call.cookies.get("_session_id") not in state["sessions"]:
            return 200, {"result": None, "error": {"message": "Not authenticated", "code": 1}, "id": body["id"]}
        return 200, {"result": True, "error": None, "id": body["id"]}

    return state

def test_deluge_logs_in_by_json_rpc_and_again_when_the_session_expires(fake_server):
    srv = fake_server()
    state = fake_deluge(srv)
    client = GenericAPIClient(srv.url, password="deluge-pass", auth_type="deluge")
    call = {"method": "web.connected", "params": [], "id": 2}
    assert client.post("/json", json=call) == {"result": True, "error": None, "id": 2}
    assert state["logins"] == 1
    assert client.post("/json", json=call)["result"] is True
    assert state["logins"] == 1

    state["sessions"].clear()  # Deluge restarted: the session is gone
    assert client.post("/json", json=call)["result"] is True
    assert state["logins"] == 2

def test_deluge_wrong_password_is_an_auth_error(fake_server):
    srv = fake_server()
    fake_deluge(srv)
    client = GenericAPIClient(srv.url, password="nope-nope", auth_type="deluge")
    with pytest.raises(AuthError) as err:
        client.post("/json", json={"method": "web.connected", "params": [], "id": 2})
    assert err.value.status == 401 and str(err.value) == "Invalid password"
