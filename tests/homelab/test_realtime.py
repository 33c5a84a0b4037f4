"""/ws/events (homelab.realtime): a real WebSocket client against the live web server (the uvicorn command line
`make run` uses), with each kind of credential, events published from this process, heartbeats, and the
subscription released when the client goes."""
import contextlib
import gzip
import json

import pytest
import requests
from django.test import Client
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from homelab import events
from homelab.models import APIKey
from homelab.webtoken import get_web_token
from tests.epg.test_api_guide import guide_around_now
from tests.live import WebServer

pytestmark = pytest.mark.django_db(transaction=True)
HEARTBEAT = 0.3


@pytest.fixture(scope="module")
def web(tmp_path_factory, django_db_setup, django_db_blocker):
    server = WebServer(tmp_path_factory.mktemp("web"), env={"REALTIME_HEARTBEAT_SECONDS": str(HEARTBEAT)})
    yield server
    server.stop()


@pytest.fixture
def admin(django_user_model):
    return django_user_model.objects.create_superuser("admin", "admin@example.com", "s3cret-pass")


def ws(web, query="channel=epg", headers=None):
    return connect(f"{web.ws_url}/ws/events?{query}", additional_headers=headers or {}, open_timeout=10)


def next_event(conn, skip=("heartbeat",), timeout=10):
    while True:
        message = json.loads(conn.recv(timeout=timeout))
        assert set(message) == {"event", "data"}
        if message["event"] not in skip:
            return message


def close_code(conn) -> int:
    with pytest.raises(ConnectionClosed) as closed:
        conn.recv(timeout=10)
    return closed.value.rcvd.code


def subscribers(channel="epg") -> int:
    return dict(events.redis_client().pubsub_numsub(events.channel_name(channel))).get(
        events.channel_name(channel).encode(), 0)


def test_without_credentials_it_closes_with_4401(web, admin):
    with ws(web) as conn:
        assert close_code(conn) == 4401
    with ws(web, "channel=epg&token=not-the-token") as conn:
        assert close_code(conn) == 4401
    with ws(web, "channel=epg", {"X-API-Key": "nope"}) as conn:
        assert close_code(conn) == 4401
    assert subscribers() == 0


def test_a_channel_outside_the_allow_list_or_none_is_refused(web, admin):
    token = get_web_token()
    with ws(web, f"channel=secrets&token={token}") as conn:
        assert close_code(conn) == 4404
    with ws(web, f"token={token}") as conn:
        assert close_code(conn) == 4400
    with connect(f"{web.ws_url}/ws/nothing-here?token={token}", open_timeout=10) as conn:
        assert close_code(conn) == 4404


def test_hostile_handshakes_get_a_close_code_not_a_server_error(web, admin):
    token = get_web_token()
    # a credential that is not text a header can carry: refused like any wrong one
    for query in ("channel=epg&token=%00%ff", "channel=epg&key=%e2%82%ac", "channel=epg&token=%C3%A9t%C3%A9"):
        with ws(web, query) as conn:
            assert close_code(conn) == 4401, query
    # a reason longer than a close frame can carry (123 bytes) is cut, the code still arrives
    with ws(web, f"channel={'x' * 5000}&token={token}") as conn:
        with pytest.raises(ConnectionClosed) as closed:
            conn.recv(timeout=10)
    assert closed.value.rcvd.code == 4404 and closed.value.rcvd.reason.startswith("Unknown channel: xxx")
    assert len(closed.value.rcvd.reason.encode()) <= 123
    assert "Traceback" not in web.log.read_text()


def credentials(web, admin):
    """Each way a client can authenticate: (name, query, headers)."""
    token = get_web_token()
    _, key = APIKey.generate(name="ws", user=admin)
    access = requests.post(f"{web.url}/api/accounts/token/", json={"username": "admin", "password": "s3cret-pass"},
                           timeout=10).json()["access"]
    client = Client()
    client.force_login(admin)
    session = client.cookies["sessionid"].value
    origin = f"http://127.0.0.1:{web.port}"
    return [
        ("web token in the query", f"token={token}", {}),
        ("web token header", "", {"X-Auth-Token": token}),
        ("web token as Bearer", "", {"Authorization": f"Bearer {token}"}),
        ("JWT as Bearer", "", {"Authorization": f"Bearer {access}"}),
        ("JWT in the query", f"token={access}", {}),
        ("API key header", "", {"X-API-Key": key}),
        ("API key in the query", f"key={key}", {}),
        ("session cookie", "", {"Cookie": f"sessionid={session}", "Origin": origin}),
    ]


def test_each_credential_is_accepted_and_an_event_published_here_arrives(web, admin, poll):
    kinds = credentials(web, admin)
    for name, query, headers in kinds:
        with ws(web, "&".join(filter(None, ["channel=epg", query])), headers) as conn:
            events.publish("epg", "epg_refresh", {"source": 1, "status": "parsing", "credential": name})
            assert next_event(conn) == {"event": "epg_refresh",
                                        "data": {"source": 1, "status": "parsing", "credential": name}}, name
    # the web server's log (its access log too) shows none of the credentials sent in the query
    poll(lambda: web.log.read_text().count("WebSocket /ws/events") >= 2 * len(kinds), timeout=10,
         message="the log lines of every connection")
    log = "\n".join(line for line in web.log.read_text().splitlines() if "shown this once" not in line)
    for name, query, _ in kinds:
        if query:
            assert query.split("=", 1)[1] not in log, name
    assert "token=****" in log and "key=****" in log


def test_a_session_cookie_from_a_foreign_page_is_refused(web, admin):
    client = Client()
    client.force_login(admin)
    cookie = {"Cookie": f"sessionid={client.cookies['sessionid'].value}", "Origin": "http://evil.example"}
    with ws(web, headers=cookie) as conn:
        assert close_code(conn) == 4403


def test_only_the_chosen_channels_are_relayed(web, admin):
    token = get_web_token()
    with ws(web, f"channel=previews,invites&token={token}") as conn:
        events.publish("epg", "epg_refresh", {"n": 1})
        events.publish("invites", "invite_used", {"code": "abc"})
        events.publish("previews", "job_progress", {"job": 7, "percent": 40})
        assert next_event(conn) == {"event": "invite_used", "data": {"code": "abc"}}
        assert next_event(conn) == {"event": "job_progress", "data": {"job": 7, "percent": 40}}


def test_heartbeats_arrive_every_few_seconds(web, admin):
    with ws(web, f"channel=epg&token={get_web_token()}") as conn:
        beats = [next_event(conn, skip=(), timeout=HEARTBEAT * 20) for _ in range(2)]
    assert [b["event"] for b in beats] == ["heartbeat", "heartbeat"]
    assert all(set(b["data"]) == {"time"} for b in beats)
    assert beats[0]["data"]["time"] < beats[1]["data"]["time"]


def test_the_subscription_is_released_when_the_client_goes(web, admin, poll):
    token = get_web_token()
    stack = contextlib.ExitStack()
    conns = [stack.enter_context(ws(web, f"channel=epg&token={token}")) for _ in range(3)]
    poll(lambda: subscribers() == 3, timeout=10, message="three subscribers")
    conns[0].close()
    poll(lambda: subscribers() == 2, timeout=10, message="one subscriber less after a clean close")
    conns[1].socket.close()  # gone without a close frame
    poll(lambda: subscribers() == 1, timeout=20, message="one subscriber less after the socket dropped")
    events.publish("epg", "epg_refresh", {"still": "here"})
    assert next_event(conns[2]) == {"event": "epg_refresh", "data": {"still": "here"}}
    stack.close()
    poll(lambda: subscribers() == 0, timeout=10, message="no subscriber left")
    log = web.log.read_text()
    assert "Task was destroyed" not in log and "Traceback" not in log


@pytest.mark.e2e
def test_an_epg_import_streams_its_progress(web, admin, celery_worker, fake_server):
    xml, _ = guide_around_now(hours=(0, 1), tvg_id="ws.example")
    srv = fake_server()
    srv.route("GET", "/guide.xml.gz")(lambda call: (200, gzip.compress(xml)))
    headers = {"X-Auth-Token": get_web_token()}
    source = requests.post(f"{web.url}/api/epg/sources/", json={"name": "WS", "source_type": "url",
                           "url": f"{srv.url}/guide.xml.gz", "refresh_interval": 0}, headers=headers, timeout=10)
    assert source.status_code == 201, source.text
    source_id = source.json()["id"]
    with ws(web, headers=headers) as conn:
        started = requests.post(f"{web.url}/api/epg/import/", json={"id": source_id}, headers=headers, timeout=10)
        assert started.status_code == 202, started.text
        seen = []
        while not seen or seen[-1]["status"] not in ("success", "error"):
            event = next_event(conn, timeout=60)
            assert event["event"] == "epg_refresh"
            seen.append(event["data"])
    assert {e["source"] for e in seen} == {source_id}
    assert seen[0]["status"] == "fetching" and seen[-1]["status"] == "success", (seen, celery_worker.log_tail())
    assert seen[-1]["progress"] == 100
    assert [e["progress"] for e in seen] == sorted(e["progress"] for e in seen)
