"""/previews/ws/jobs: a real WebSocket client against the live web server receives job_progress and
job_complete of a real job (a real worker, real ffmpeg, the fake Plex); a client that connects while a job runs
gets its state first; without credentials the socket is closed with 4401."""
import json

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from previews.media import ffmpeg_path
from previews.models import Job
from tests.previews.clips import make_clip

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PROGRESS_KEYS = {"job_id", "progress", "completed", "total", "current_item"}


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return make_clip(tmp_path_factory.mktemp("clips") / "clip.mkv", ffmpeg=ffmpeg_path(), duration=2, gop=1)


def _library(plex, clip, title, names):
    library = plex.add_library(str(len(plex.libraries) + 20), title, "movie")
    for n, name in enumerate(names):
        plex.add_video(library, name, f"/data/{title}/{name}.mkv", f"{abs(hash((title, n))):016x}")
        target = plex.local / title / f"{name}.mkv"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(clip.read_bytes())
    return library


def _ws(stack, query="", headers=None):
    return connect(f"{stack.web.ws_url}/previews/ws/jobs{query}", additional_headers=headers or {}, open_timeout=10)


def _events(conn, until, timeout=60):
    seen = []
    while True:
        message = json.loads(conn.recv(timeout=timeout))
        assert set(message) == {"event", "data"}
        if message["event"] == "heartbeat":
            continue
        seen.append(message)
        if until(message):
            return seen


def test_a_browser_gets_progress_and_complete_of_a_real_job(stack_queue, client, configured, clip, web_token):
    library = _library(configured, clip, "Live", ["live one", "live two"])
    with _ws(stack_queue, f"?token={web_token}") as conn:
        job_id = client.post("/previews/api/jobs", {"library_id": library.key}, format="json").json()["id"]
        # the last item's job_progress may come just after job_complete (previews.pipeline._record publishes the
        # end first): read until both are in
        got = set()

        def done(m):
            if m["data"].get("job_id") == job_id:
                if m["event"] == "job_complete" or (m["event"] == "job_progress" and m["data"]["progress"] == 100):
                    got.add(m["event"])
            if m["event"] == "worker_update" and m["data"]["status"] == "idle":
                got.add("idle")  # a slot given back (published after the item's outcome)
            return got == {"job_complete", "job_progress", "idle"}
        seen = _events(conn, done)
    progress = [m["data"] for m in seen if m["event"] == "job_progress" and m["data"]["job_id"] == job_id]
    assert progress and all(set(p) == PROGRESS_KEYS for p in progress), seen
    assert progress[-1] == {"job_id": job_id, "progress": 100, "completed": 2, "total": 2,
                            "current_item": progress[-1]["current_item"]}
    assert {p["current_item"] for p in progress} - {None} <= {"live one", "live two"}
    assert progress[-1]["current_item"] in ("live one", "live two")
    complete = next(m["data"] for m in seen if m["event"] == "job_complete")
    assert (complete["status"], complete["progress"], complete["completed"]) == ("completed", 100, 2)
    workers = [m["data"] for m in seen if m["event"] == "worker_update"]
    assert {"working", "idle"} <= {w["status"] for w in workers}
    assert Job.objects.get(pk=job_id).status == "completed"


def test_a_reconnecting_browser_gets_the_running_jobs_state_first(stack_queue, client, configured,
                                                                   tmp_path_factory, web_token, poll):
    from previews.models import JobItem

    slow = make_clip(tmp_path_factory.mktemp("slowlive") / "slow.mkv", ffmpeg=ffmpeg_path(), duration=20, gop=2)
    library = _library(configured, slow, "Running", ["slow-live"])
    job_id = client.post("/previews/api/jobs", {"library_id": library.key}, format="json").json()["id"]
    poll(lambda: JobItem.objects.filter(job_id=job_id, status="running").exists(), timeout=30,
         message="the item to run")
    try:
        with _ws(stack_queue, "", {"X-Auth-Token": web_token}) as conn:
            first = json.loads(conn.recv(timeout=10))
            second = json.loads(conn.recv(timeout=10))
        assert first == {"event": "job_progress", "data": {"job_id": job_id, "progress": 0, "completed": 0,
                                                           "total": 1, "current_item": "slow-live"}}
        assert second["event"] == "worker_update"
        assert (second["data"]["status"], second["data"]["current_item"], second["data"]["job_id"]) == (
            "working", "slow-live", job_id)
    finally:
        client.post(f"/previews/api/jobs/{job_id}/cancel")


def test_a_jwt_is_accepted(stack_queue, admin_client_jwt, db):
    token = admin_client_jwt._credentials["HTTP_AUTHORIZATION"].split()[1]
    with _ws(stack_queue, f"?token={token}") as conn:
        message = json.loads(conn.recv(timeout=10))  # accepted: a state event or the heartbeat, not a close
        assert set(message) == {"event", "data"} and message["event"] in ("heartbeat", "job_progress",
                                                                         "worker_update")


@pytest.mark.parametrize("query,headers", [("", None), ("?token=wrong", None), ("", {"X-Auth-Token": "wrong"})])
def test_without_valid_credentials_the_socket_is_closed_with_4401(stack_queue, web_token, query, headers):
    with _ws(stack_queue, query, headers) as conn:
        with pytest.raises(ConnectionClosed) as closed:
            conn.recv(timeout=10)
    assert closed.value.rcvd.code == 4401
