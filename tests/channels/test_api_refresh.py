"""End to end: a front end's calls against a live server, a real Celery worker refreshing from the fake Xtream
panel over real HTTP."""
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from channels.models import Channel, Provider
from homelab.models import APIKey

pytestmark = pytest.mark.e2e


@pytest.fixture
def front(live_server, django_user_model):
    user = django_user_model.objects.create_superuser("admin", "admin@example.com", "s3cret-pass")
    _, raw = APIKey.generate(name="front end", user=user)
    session = requests.Session()
    session.headers["X-API-Key"] = raw
    base = live_server.url + "/iptv"

    class Front:
        key = raw

        def get(self, path, **params):
            return session.get(base + path, params=params, timeout=15)

        def post(self, path, json=None):
            return session.post(base + path, json=json, timeout=15)

    return Front()


def wait_done(front, poll, worker):
    def done():
        body = front.get("/status").json()
        return body if not body["refreshing"] and body["status"] in ("success", "error") else None

    try:
        return poll(done, timeout=60, message="the refresh to end")
    except AssertionError:
        raise AssertionError(worker.log_tail())


def test_login_refresh_and_twenty_concurrent_refreshes_fetch_once(front, panel, celery_worker, poll,
                                                                  transactional_db):
    r = front.post("/login", {"host": panel.url, "username": "alice", "password": "secret-pass"})
    assert r.status_code == 200, r.text
    status = wait_done(front, poll, celery_worker)
    assert status["status"] == "success", status
    total = len(panel.live) + len(panel.vod) + len(panel.series)
    assert status["channel_count"] == total and status["stale"] is False
    page = front.get("/channels", page=2, page_size=100).json()
    assert page["total"] == total and page["pages"] == 3 and len(page["items"]) == 100
    ids = dict(Channel.objects.values_list("key", "id"))
    assert len(panel.calls_to("/get.php")) == 1

    # twenty front ends press "refresh" at once while the download is held: one download
    panel.modes["get.php"] = "hold"
    panel.release.clear()
    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(lambda _: front.post("/refresh"), range(20)))
    assert [a.status_code for a in answers] == [202] * 20
    assert sum(a.json()["started"] for a in answers) == 1
    assert all(a.json()["refreshing"] is True for a in answers)
    poll(lambda: len(panel.calls_to("/get.php")) == 2, timeout=30, message="the held download")
    assert front.get("/status").json()["refreshing"] is True
    panel.release.set()
    status = wait_done(front, poll, celery_worker)
    assert status["status"] == "success", status
    assert len(panel.calls_to("/get.php")) == 2
    assert dict(Channel.objects.values_list("key", "id")) == ids


def test_a_cut_download_keeps_the_catalogue_and_status_says_why(front, panel, celery_worker, poll, transactional_db):
    r = front.post("/login", {"host": panel.url, "username": "alice", "password": "secret-pass"})
    assert r.status_code == 200
    wait_done(front, poll, celery_worker)
    before = front.get("/channels", page=1, page_size=500).json()
    panel.modes["get.php"] = "cut"
    assert front.post("/refresh").status_code == 202

    def failed():
        body = front.get("/status").json()
        return body if body["last_error"] else None

    # a cut is temporary: the task retries it (with the job kit's backoff) and says so meanwhile
    status = poll(failed, timeout=60, message="the cut refresh to be reported")
    assert "connection was cut" in status["last_error"] and "previous catalogue is kept" in status["last_error"]
    assert "secret-pass" not in str(status)
    assert front.get("/channels", page=1, page_size=500).json() == before
    assert Provider.objects.get().channel_count == before["total"]
