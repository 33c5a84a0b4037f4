"""Webhooks for new media: Plex's multipart library.new, Sonarr's and Radarr's Download JSON (payloads as those
apps document them, in tests/fixtures/previews/), the token in ?token=; each makes the right one-item job once
Plex has the file (retried after 30 s, 2, 5, 15, 60 min on a moved clock); an unknown file fails with a message."""
import json

import pytest

from previews import schedule_tasks, webhooks
from previews.models import Job, JobItem, WebhookEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def payload(fixture_path):
    def load(name: str) -> dict:
        return json.loads(fixture_path("previews", name).read_text())
    return load


@pytest.fixture
def hook(api_client, web_token, django_capture_on_commit_callbacks):
    """POST a webhook as the sender does (token in the query); returns (response, queued on-commit callbacks)."""
    def post(source: str, body, *, multipart: bool = False, token: str | None = None):
        url = f"/previews/api/webhooks/{source}?token={web_token if token is None else token}"
        with django_capture_on_commit_callbacks(execute=False) as queued:
            if multipart:
                response = api_client.post(url, body, format="multipart")
            else:
                response = api_client.post(url, body, format="json")
        return response, queued
    return post


def _resolve(event_id, django_capture_on_commit_callbacks):
    """One retry step as the Celery task runs it; returns (status, what it queued)."""
    with django_capture_on_commit_callbacks(execute=False) as queued:
        status = schedule_tasks.resolve_webhook(event_id)
    return status, queued


def _file(plex, plex_path: str) -> None:
    local = plex.local / plex_path.removeprefix("/data/")
    local.parent.mkdir(parents=True, exist_ok=True)
    local.write_bytes(b"not really a video")


def test_sonarr_download_makes_a_one_item_job_once_plex_has_indexed_the_file(
        hook, payload, configured, clock, django_capture_on_commit_callbacks):
    body = payload("sonarr_download.json")
    _file(configured, body["episodeFile"]["path"])
    response, queued = hook("sonarr", body)
    assert response.status_code == 200, response.content
    assert response.json()["success"] is True and len(response.json()["events"]) == 1
    assert len(queued) == 1  # the first try, once committed
    event = WebhookEvent.objects.get(pk=response.json()["events"][0])
    assert (event.source, event.file_path, event.title) == (
        "sonarr", "/data/tv/Show/Season 01/Show - s01e04.mkv", "Show S01E04 - The Fourth")

    # Plex has not scanned it yet: the next try in 30 s
    status, queued = _resolve(event.pk, django_capture_on_commit_callbacks)
    event.refresh_from_db()
    assert (status, event.status, event.attempts) == ("waiting", "waiting", 1)
    assert "Trying again in 30 s" in event.message and len(queued) == 1
    assert _resolve(event.pk, django_capture_on_commit_callbacks)[0] == "early"  # a duplicate delivery

    shows = configured.libraries["2"]
    configured.add_video(shows, "The Fourth", body["episodeFile"]["path"], "c4b2c3d4e5f60004", show="Show",
                         season=1, episode=4)
    clock.travel(30)
    status, queued = _resolve(event.pk, django_capture_on_commit_callbacks)
    event.refresh_from_db()
    assert (status, event.status) == ("queued", "queued")
    job = event.job
    items = list(JobItem.objects.filter(job=job))
    assert (job.library_id, job.library_name, job.status, job.total_items) == ("2", "TV Shows", "running", 1)
    assert [(i.title, i.plex_path, i.media_hash, i.status) for i in items] == [
        ("Show S01E04 - The Fourth", body["episodeFile"]["path"], "c4b2c3d4e5f60004", "pending")]
    assert items[0].local_path == str(configured.local / "tv/Show/Season 01/Show - s01e04.mkv")
    assert len(queued) == 1  # the item's task
    assert Job.objects.count() == 1


def test_a_path_as_this_machine_sees_it_is_mapped_back_to_plexs(hook, payload, configured,
                                                                django_capture_on_commit_callbacks):
    body = payload("radarr_download.json")
    movies = configured.libraries["1"]
    configured.add_video(movies, "Tears of Steel", body["movieFile"]["path"], "e1b2c3d4e5f60009")
    _file(configured, body["movieFile"]["path"])
    local_folder = str(configured.local / "movies/Tears of Steel (2012)")
    body["movie"]["folderPath"] = local_folder  # Radarr runs here, next to homelab
    body["movieFile"].pop("path")  # older Radarr: only the relative path
    response, _ = hook("radarr", body)
    assert response.status_code == 200, response.content
    event = WebhookEvent.objects.get()
    assert event.file_path == f"{local_folder}/Tears of Steel (2012).mkv"
    assert event.event_type == "Download (upgrade)" and event.title == "Tears of Steel (2012)"
    status, _ = _resolve(event.pk, django_capture_on_commit_callbacks)
    assert status == "queued"
    item = JobItem.objects.get(job=WebhookEvent.objects.get().job)
    assert (item.plex_path, item.media_hash) == ("/data/movies/Tears of Steel (2012)/Tears of Steel (2012).mkv",
                                                 "e1b2c3d4e5f60009")


def test_plex_library_new_makes_a_one_item_job_from_its_rating_key(hook, payload, configured,
                                                                   django_capture_on_commit_callbacks):
    sintel = next(v for v in configured.libraries["1"].videos if v.title == "Sintel")
    _file(configured, sintel.file)
    body = json.dumps(payload("plex_library_new.json")).replace("RATING_KEY", sintel.rating_key)
    response, queued = hook("plex", {"payload": body}, multipart=True)
    assert response.status_code == 200, response.content
    event = WebhookEvent.objects.get()
    assert (event.plex_id, event.library_id, event.title) == (sintel.rating_key, "1", "Sintel")
    status, queued = _resolve(event.pk, django_capture_on_commit_callbacks)
    assert status == "queued" and len(queued) == 1
    item = JobItem.objects.get(job=WebhookEvent.objects.get().job)
    assert (item.plex_id, item.plex_path, item.status) == (sintel.rating_key, sintel.file, "pending")
    assert WebhookEvent.objects.get().job.library_name == "Movies"


def test_plex_library_new_of_a_show_makes_a_job_of_its_episodes(hook, payload, configured,
                                                                django_capture_on_commit_callbacks):
    body = payload("plex_library_new.json")
    body["Metadata"].update(type="show", ratingKey="2001", title="Show", librarySectionID=2)
    for video in configured.libraries["2"].videos:
        _file(configured, video.file)
    response, _ = hook("plex", {"payload": json.dumps(body)}, multipart=True)
    assert response.status_code == 200
    assert _resolve(WebhookEvent.objects.get().pk, django_capture_on_commit_callbacks)[0] == "queued"
    assert JobItem.objects.filter(job=WebhookEvent.objects.get().job).count() == 3


def test_an_unknown_file_is_retried_on_the_schedule_then_fails_with_a_message(
        hook, payload, configured, clock, django_capture_on_commit_callbacks):
    body = payload("radarr_download.json")
    response, _ = hook("radarr", body)
    event_id = response.json()["events"][0]
    delays = []
    while True:
        status, queued = _resolve(event_id, django_capture_on_commit_callbacks)
        event = WebhookEvent.objects.get(pk=event_id)
        if status != "waiting":
            break
        delay = (event.next_attempt_at - clock.now()).total_seconds()
        delays.append(round(delay))
        clock.travel(delay)
    assert delays == [30, 120, 300, 900, 3600]
    assert (status, event.status, event.attempts, event.job) == ("failed", "failed", 6, None)
    assert event.message == (
        "No Plex item has the file /data/movies/Tears of Steel (2012)/Tears of Steel (2012).mkv. Gave up after 6 "
        "tries over 82 min: check that the file is in a Plex library (Plex scans it) and the path mapping "
        "(plex_videos_path_mapping -> plex_local_videos_path_mapping).")
    assert queued == [] and not Job.objects.exists()
    assert _resolve(event_id, django_capture_on_commit_callbacks)[0] == "gone"


def test_plex_down_is_retried_too(hook, payload, configured, django_capture_on_commit_callbacks):
    response, _ = hook("radarr", payload("radarr_download.json"))
    _plex_goes_down()
    status, queued = _resolve(response.json()["events"][0], django_capture_on_commit_callbacks)
    event = WebhookEvent.objects.get()
    assert status == "waiting" and len(queued) == 1
    assert event.message.startswith("Plex could not be asked: Could not reach the Plex server at")


@pytest.mark.parametrize("source,event", [("sonarr", "Test"), ("radarr", "Test"), ("sonarr", "Grab"),
                                          ("radarr", "MovieDelete")])
def test_other_arr_events_are_acknowledged_and_ignored(hook, source, event):
    response, queued = hook(source, {"eventType": event, "instanceName": source.title()})
    assert response.status_code == 200
    assert response.json() == {"success": True, "message": f"{source.title()} event {event} needs no previews.",
                               "events": []}
    assert queued == [] and not WebhookEvent.objects.exists()


def test_other_plex_events_are_acknowledged_and_ignored(hook, payload):
    body = payload("plex_library_new.json")
    body["event"] = "media.play"
    response, _ = hook("plex", {"payload": json.dumps(body)}, multipart=True)
    assert response.status_code == 200 and response.json()["message"] == "Plex event media.play needs no previews."
    assert not WebhookEvent.objects.exists()


@pytest.mark.parametrize("source,body,message", [
    ("sonarr", {"eventType": "Download"}, "A Download event needs episodeFile (the imported file)."),
    ("sonarr", {"eventType": "Download", "episodeFile": {"quality": "x"}},
     "episodeFile has no 'path' (nor a 'relativePath' with the folder)."),
    ("sonarr", {"instanceName": "Sonarr"}, "eventType is missing."),
    ("radarr", {"eventType": "Download", "movieFile": {"path": 123}}, "movieFile.path must be a string."),
    ("sonarr", {"eventType": "Download", "episodeFile": {"path": "\x00/x.mkv"}},
     "episodeFile.path must be an absolute path, not '/x.mkv'."),
    ("sonarr", {"eventType": "Download", "episodeFile": {"path": "x.mkv"}},
     "episodeFile.path must be an absolute path, not 'x.mkv'."),
    ("sonarr", [1, 2], "The body must be a JSON object."),
    ("radarr", {"eventType": "Download", "movie": {"title": "x"}}, "A Download event needs movieFile (the imported "
                                                                    "file)."),
    ("radarr", {"eventType": "Download", "movie": "x", "movieFile": {"path": "/a"}}, "movie must be a JSON object."),
])
def test_malformed_arr_payloads_are_400_saying_what_is_missing(hook, source, body, message):
    response, _ = hook(source, body)
    assert response.status_code == 400
    assert response.json() == {"error": message, "code": "VALIDATION_ERROR"}


@pytest.mark.parametrize("form,message", [
    ({}, "The multipart field 'payload' (Plex's webhook JSON) is missing."),
    ({"payload": "{not json"}, "The field 'payload' is not JSON"),
    ({"payload": "[]"}, "payload must be a JSON object."),
    ({"payload": '{"event": "library.new"}'}, "payload.Metadata must be a JSON object."),
    ({"payload": '{"event": "library.new", "Metadata": {"ratingKey": "../1"}}'},
     "payload.Metadata.ratingKey (the new item's id) is missing or not a number."),
])
def test_malformed_plex_payloads_are_400(hook, form, message):
    response, _ = hook("plex", form, multipart=True)
    assert response.status_code == 400 and response.json()["code"] == "VALIDATION_ERROR"
    assert response.json()["error"].startswith(message)


@pytest.mark.parametrize("source", ["plex", "sonarr", "radarr"])
def test_a_wrong_or_missing_token_is_401(hook, api_client, source):
    response, _ = hook(source, {"eventType": "Test"}, token="wrong")
    assert response.status_code == 401 and response.json() == {"error": "Invalid token.", "code": "UNAUTHORIZED"}
    assert api_client.post(f"/previews/api/webhooks/{source}", {}, format="json").status_code == 401


def test_candidates_are_the_path_and_its_reverse_mapping():
    pairs = [("/data", "/mnt/media"), ("D:\\Films", "/mnt/films")]
    assert webhooks.plex_candidates("/mnt/media/tv/a.mkv", pairs) == ["/mnt/media/tv/a.mkv", "/data/tv/a.mkv"]
    assert webhooks.plex_candidates("/data/tv/a.mkv", pairs) == ["/data/tv/a.mkv"]


def _plex_goes_down():
    """The Plex URL now answers nothing (a closed port), at once."""
    from previews import services
    from tests.live import free_port

    services.save_settings({"plex_url": f"http://127.0.0.1:{free_port()}"})
