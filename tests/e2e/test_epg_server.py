"""End to end: the integration guide's own client (DispatcharrAuth / EPGManager / wait_for_refresh) against a live
server, with a real Celery worker importing a guide served over local HTTP."""
import gzip
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from epg.models import EPGSource
from tests.epg.dispatcharr_client import DispatcharrAuth, EPGManager
from tests.epg.test_api_guide import guide_around_now

pytestmark = pytest.mark.e2e


@pytest.fixture
def manager(live_server, django_user_model):
    django_user_model.objects.create_superuser("admin", "admin@example.com", "s3cret-pass")
    DispatcharrAuth._sessions.clear()
    return EPGManager(live_server.url, "admin", "s3cret-pass")


def test_the_guide_client_refreshes_and_reads_the_grid(manager, live_server, celery_worker, fake_server, poll):
    xml, base = guide_around_now(hours=(-1, 0, 1, 2), tvg_id="e2e.example")
    state = {"body": gzip.compress(xml)}
    srv = fake_server()
    srv.route("GET", "/guides/e2e.xml.gz")(lambda call: (200, state["body"]))

    created = manager.auth.post("/api/epg/sources/", {"name": "_Teamarr - E2E", "source_type": "url",
                                                      "url": f"{srv.url}/guides/e2e.xml.gz", "refresh_interval": 0})
    assert created.status_code == 201, created.text
    epg_id = created.json()["id"]
    dummy = manager.auth.post("/api/epg/sources/", {"name": "_Dummy - All", "source_type": "dummy"}).json()

    names = [s["name"] for s in manager.list_sources()]
    assert names == ["_Teamarr - E2E", "_Dummy - All"]
    assert [s["id"] for s in manager.list_sources(include_dummy=False)] == [epg_id]
    assert manager.find_by_name("teamarr")["id"] == epg_id
    # the guide's client treats any 4xx response as falsy ("Request failed"); the body is Dispatcharr's
    assert manager.refresh(dummy["id"]) == {"success": False, "message": "Request failed"}
    r = manager.auth.post("/api/epg/import/", {"id": dummy["id"]})
    assert r.status_code == 400
    assert r.json() == {"success": False, "message": "Dummy EPG sources do not require refreshing."}

    result = manager.wait_for_refresh(epg_id, timeout=60, poll_interval=0.1)
    assert result["success"] is True, (result, manager.get_source(epg_id), celery_worker.log_tail())
    assert result["final_status"] == "success"
    source = manager.get_source(epg_id)
    assert source["status"] == "success" and source["programme_count"] == 4
    assert source["last_refresh"] == source["updated_at"]

    grid = manager.auth.get("/api/epg/grid/").json()["data"]
    assert [p["title"] for p in grid] == ["At -1", "At 0", "At 1", "At 2"]
    assert {p["tvg_id"] for p in grid} == {"e2e.example"}
    epgdata = manager.auth.get(f"/api/epg/epgdata/?epg_source={epg_id}").json()
    assert [(c["tvg_id"], c["name"]) for c in epgdata] == [("e2e.example", "Now")]

    # the worker regenerated /output/epg.xml after the import
    import requests

    def output_has_guide():
        r = requests.get(f"{live_server.url}/output/epg.xml", timeout=5)
        return r.status_code == 200 and b'channel="e2e.example"' in r.content and r

    r = poll(output_has_guide, timeout=30, message="the worker to regenerate /output/epg.xml")
    assert requests.get(f"{live_server.url}/output/epg.xml", headers={"If-None-Match": r.headers["ETag"]},
                        timeout=5).status_code == 304

    # a second refresh picks up a changed guide: wait_for_refresh sees it finish (updated_at changes)
    xml2, _ = guide_around_now(hours=(0, 5), tvg_id="e2e.example")
    state["body"] = gzip.compress(xml2)
    result = manager.wait_for_refresh(epg_id, timeout=60, poll_interval=0.1)
    assert result["final_status"] == "success", celery_worker.log_tail()
    assert [p["title"] for p in manager.auth.get("/api/epg/grid/").json()["data"]] == ["At 0", "At 5"]

    # a broken guide: the refresh ends in error with a readable message; the grid keeps the old guide
    before = manager.get_source(epg_id)
    state["body"] = b"<tv><programme start='20250101000000' channel='x'><title>cut"
    assert manager.refresh(epg_id) == {"success": True, "message": "EPG refresh initiated"}
    failed = poll(lambda: (s := manager.get_source(epg_id)) and s["status"] == "error" and s, timeout=60,
                  message="the failing import to end")
    assert failed["last_message"].startswith("Malformed XML: ")
    assert failed["updated_at"] == before["updated_at"]  # updated_at moves only on success
    assert [p["title"] for p in manager.auth.get("/api/epg/grid/").json()["data"]] == ["At 0", "At 5"]


def test_refresh_epg_waits_for_the_worker(transactional_db, celery_worker, fake_server, fixture_path):
    srv = fake_server()
    body = fixture_path("epg", "iptv-org-base.guide.xml").read_bytes()
    srv.route("GET", "/epg.xml")(lambda call: (200, body))
    good = EPGSource.objects.create(name="good", url=f"{srv.url}/epg.xml", refresh_interval=0)
    out = StringIO()
    call_command("refresh_epg", "--source", str(good.pk), "--wait", "--timeout", "60", stdout=out)
    assert "good: refresh queued" in out.getvalue()
    assert "good: success: Imported 4 channels and 6 programmes" in out.getvalue()

    bad = EPGSource.objects.create(name="bad", url=f"{srv.url}/missing.xml", refresh_interval=0)
    with pytest.raises(CommandError, match=r"^Refresh failed for: bad\.$"):
        call_command("refresh_epg", "--all", "--wait", "--timeout", "60", stdout=StringIO())
    assert EPGSource.objects.get(pk=bad.pk).last_message.endswith("/missing.xml: HTTP 404")
    assert EPGSource.objects.get(pk=good.pk).status == "success"
