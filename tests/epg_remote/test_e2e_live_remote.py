"""Push-refresh against a second live instance of this project acting as the remote Dispatcharr.

This instance (live server + real Celery worker) imports a guide served over local HTTP; the import
regenerates /output/epg.xml, whose signal queues the push; the worker logs in to the remote instance with JWT,
``POST /api/epg/import/`` there and polls the remote source until the remote has imported our /output/epg.xml.
The remote is ``manage.py serve --no-beat`` in its own data dir, SQLite and embedded Redis, stopped with SIGTERM.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import requests

from epg.models import EPGSource
from epg.remote.models import DispatcharrLink
from tests.live import LiveStack

REMOTE_USER, REMOTE_PASSWORD = "remote-admin", "remote-pass-4821"


@pytest.fixture(scope="module")
def remote_homelab(tmp_path_factory):
    remote = LiveStack(tmp_path_factory.mktemp("remote-homelab"), "--host", "127.0.0.1", "--no-beat",
                       admin=(REMOTE_USER, REMOTE_PASSWORD), env={"CELERY_WORKER_CONCURRENCY": "2"})
    try:
        remote.health(200)
        yield remote
    finally:
        remote.stop()


def remote_session(remote: LiveStack) -> requests.Session:
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {remote.access_token()}"
    return s


def xmltv(now: datetime) -> str:
    fmt = "%Y%m%d%H%M%S +0000"
    programmes = []
    for channel in ("push.one", "push.two"):
        for hour in range(-1, 5):
            start = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=hour)
            programmes.append(
                f'<programme start="{start.strftime(fmt)}" stop="{(start + timedelta(hours=1)).strftime(fmt)}" '
                f'channel="{channel}"><title>{channel} at {hour}</title></programme>')
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<tv>'
            '<channel id="push.one"><display-name>Push One</display-name></channel>'
            '<channel id="push.two"><display-name>Push Two</display-name></channel>'
            + "".join(programmes) + "</tv>")


@pytest.mark.e2e
def test_push_refresh_to_a_second_live_homelab(remote_homelab, live_server, celery_worker, transactional_db,
                                               fake_server, admin_client_jwt, poll):
    # a guide served over local HTTP, as this instance's source
    guide = fake_server()
    body = xmltv(datetime.now(timezone.utc))
    guide.route("GET", "/guide.xml")(lambda call: (200, body, {"Content-Type": "application/xml"}))
    source = EPGSource.objects.create(name="Local guide", source_type="url", url=f"{guide.url}/guide.xml",
                                      refresh_interval=0)

    # the remote lists this instance's /output/epg.xml (by another host name) beside a dummy source
    remote = remote_session(remote_homelab)
    our_output = live_server.url.replace("127.0.0.1", "localhost") + "/output/epg.xml"
    r = remote.post(f"{remote_homelab.url}/api/epg/sources/",
                    json={"name": "_Dummy - sports", "source_type": "dummy", "refresh_interval": 0}, timeout=10)
    assert r.status_code == 201, r.text
    r = remote.post(f"{remote_homelab.url}/api/epg/sources/",
                    json={"name": "_homelab - guide", "source_type": "url", "url": our_output,
                          "refresh_interval": 0}, timeout=10)
    assert r.status_code == 201, r.text
    remote_id = r.json()["id"]
    credentials = {"url": remote_homelab.url, "username": REMOTE_USER, "password": REMOTE_PASSWORD}

    # Teamarr's settings flow: test, discover, save (credentials checked, source discovered)
    r = admin_client_jwt.post("/api/dispatcharr/test", credentials, format="json")
    assert r.json()["success"] is True, r.json()
    assert {s["name"] for s in r.json()["epg_sources"]} == {"_Dummy - sports", "_homelab - guide"}
    r = admin_client_jwt.post("/api/dispatcharr/discover", {**credentials, "filename": "epg.xml"}, format="json")
    assert r.json() == {"success": True, "epg_id": remote_id, "epg_name": "_homelab - guide",
                        "message": f"Found EPG source '_homelab - guide' (id {remote_id}) for epg.xml."}
    r = admin_client_jwt.put("/api/dispatcharr/settings", {**credentials, "enabled": True}, format="json")
    assert r.status_code == 200, r.json()
    assert r.json()["epg_id"] == remote_id

    # an import here regenerates /output/epg.xml, which pushes a refresh to the remote
    r = admin_client_jwt.post("/api/epg/import/", {"id": source.pk}, format="json")
    assert r.status_code == 202, r.json()
    link = DispatcharrLink.objects.get()

    def pushed():
        link.refresh_from_db()
        return link.last_result in ("success", "error", "timeout", "disabled")

    poll(pushed, timeout=120, interval=0.2,
         message=f"the push to end; worker log:\n{celery_worker.log_tail()}\nremote log:\n{remote_homelab.log_tail()}")
    source.refresh_from_db()
    assert source.status == "success", source.last_message
    assert link.last_result == "success", link.last_message
    assert link.last_message.startswith("EPG refresh success in ")
    assert link.last_sync is not None and link.auth_failures == 0

    # the remote imported our output: its source succeeded and it serves our channels
    remote_source = remote.get(f"{remote_homelab.url}/api/epg/sources/{remote_id}/", timeout=10).json()
    assert remote_source["status"] == "success", remote_source
    assert remote_source["updated_at"] is not None
    channels = remote.get(f"{remote_homelab.url}/api/epg/epgdata/", params={"epg_source": remote_id},
                          timeout=10).json()
    assert sorted(c["tvg_id"] for c in channels) == ["push.one", "push.two"]
    assert REMOTE_PASSWORD not in celery_worker.log.read_text(errors="replace")
