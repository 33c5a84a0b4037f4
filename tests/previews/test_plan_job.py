"""Listing a job's items through Plex: movies, episodes of shows, part file + hash from the tree, the path
mapping, existing BIFs skipped, missing files failed naming both paths."""
import pytest

from previews import pipeline, services
from previews.models import Job, JobItem
from previews.paths import bif_path

pytestmark = pytest.mark.django_db


def _files(plex, *names):
    for name in names:
        path = plex.local / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"video")


def test_movies_are_listed_with_their_part_and_hash(configured):
    _files(configured, "movies/Big Buck Bunny (2008)/bbb.mkv", "movies/Sintel (2010)/sintel.mp4")
    job = services.create_job(library_id="1")
    ids = pipeline.plan_job(job.pk)
    items = list(JobItem.objects.order_by("pk"))
    assert [i.pk for i in items] == ids
    assert [(i.title, i.plex_path, i.media_hash, i.status) for i in items] == [
        ("Big Buck Bunny", "/data/movies/Big Buck Bunny (2008)/bbb.mkv", "a1b2c3d4e5f60001", "pending"),
        ("Sintel", "/data/movies/Sintel (2010)/sintel.mp4", "b1b2c3d4e5f60002", "pending")]
    assert items[0].local_path == str(configured.local / "movies/Big Buck Bunny (2008)/bbb.mkv")
    job.refresh_from_db()
    assert (job.status, job.total_items, job.library_name) == ("running", 2, "Movies")
    assert len(configured.server.calls_to("/library/metadata/100/tree")) == 1


def test_episodes_of_shows_are_listed(configured):
    _files(configured, *[f"tv/Show/Season 01/Show - s01e0{n}.mkv" for n in (1, 2, 3)])
    job = services.create_job(library_id="2")
    assert len(pipeline.plan_job(job.pk)) == 3
    assert list(JobItem.objects.values_list("title", flat=True)) == [
        "Show S01E01 - Episode 1", "Show S01E02 - Episode 2", "Show S01E03 - Episode 3"]


def test_an_existing_bif_is_skipped_not_rewritten(configured, tmp_path):
    _files(configured, "movies/Big Buck Bunny (2008)/bbb.mkv", "movies/Sintel (2010)/sintel.mp4")
    existing = bif_path(str(tmp_path / "plex"), "a1b2c3d4e5f60001")
    import os

    os.makedirs(os.path.dirname(existing))
    open(existing, "wb").write(b"old")
    job = services.create_job(library_id="1")
    assert len(pipeline.plan_job(job.pk)) == 1
    assert JobItem.objects.get(media_hash="a1b2c3d4e5f60001").status == "skipped"
    assert open(existing, "rb").read() == b"old"


def test_a_missing_file_fails_naming_both_paths(configured):
    _files(configured, "movies/Sintel (2010)/sintel.mp4")
    job = services.create_job(library_id="1")
    pipeline.plan_job(job.pk)
    item = JobItem.objects.get(title="Big Buck Bunny")
    local = configured.local / "movies/Big Buck Bunny (2008)/bbb.mkv"
    assert item.status == "failed"
    assert item.error == (f"File not found: {local} (Plex path /data/movies/Big Buck Bunny (2008)/bbb.mkv). "
                          "Check the path mapping (plex_videos_path_mapping -> plex_local_videos_path_mapping).")


def test_a_mapping_that_matches_nothing_fails_the_job_saying_so(configured):
    services.save_settings({"plex_videos_path_mapping": "/elsewhere", "plex_local_videos_path_mapping": "/mnt/x"})
    job = services.create_job(library_id="1")
    assert pipeline.plan_job(job.pk) == []
    job.refresh_from_db()
    assert job.status == "failed" and job.failed_items == 2
    assert job.last_error.startswith("The path mapping matches nothing: none of the 2 file(s) Plex lists exists "
                                     "here after mapping (e.g. Plex path /data/movies/")
    assert "Check plex_videos_path_mapping and plex_local_videos_path_mapping" in job.last_error


def test_an_unknown_library_fails_the_job(configured):
    job = services.create_job(library_id="42")
    assert pipeline.plan_job(job.pk) == []
    job.refresh_from_db()
    assert (job.status, job.last_error) == ("failed", "The Plex server has no movie or show library with id 42.")


def test_a_wrong_token_fails_the_job_with_the_reason(configured):
    services.save_settings({"plex_token": "wrong"})
    job = services.create_job(library_id="1")
    pipeline.plan_job(job.pk)
    job.refresh_from_db()
    assert job.status == "failed"
    assert job.last_error == f"The Plex server at {configured.url} refused the token (HTTP 401): check the Plex token."


def test_no_config_folder_fails_the_job(configured):
    services.save_settings({"plex_config_folder": ""})
    job = services.create_job(library_id="1")
    pipeline.plan_job(job.pk)
    job.refresh_from_db()
    assert job.last_error == "plex_config_folder is not set: the BIFs go under Plex's data folder."


def test_a_second_delivery_of_the_start_task_does_nothing(configured):
    _files(configured, "movies/Sintel (2010)/sintel.mp4")
    job = services.create_job(library_id="1")
    pipeline.plan_job(job.pk)
    assert pipeline.plan_job(job.pk) == []
    assert JobItem.objects.count() == 2


def test_a_job_cancelled_before_it_starts_lists_nothing(configured):
    job = services.create_job(library_id="1")
    services.cancel_job(job.pk)
    assert pipeline.plan_job(job.pk) == []
    assert Job.objects.get().status == "cancelled" and not JobItem.objects.exists()


@pytest.mark.parametrize("media_hash", ["", "../../../etc", "zz"])
def test_a_part_without_a_usable_hash_fails_saying_why(configured, media_hash):
    library = configured.add_library("9", "Odd", "movie")
    configured.add_video(library, "Unanalysed", "/data/movies/new.mkv", media_hash)
    job = services.create_job(library_id="9")
    assert pipeline.plan_job(job.pk) == []
    item = JobItem.objects.get()
    assert item.status == "failed" and item.bif_path == ""
    assert item.error == (f"Plex reports no usable media hash for /data/movies/new.mkv ({media_hash!r}): Plex has not "
                          "analysed it yet. Run Analyze on it in Plex, then run the job again.")


def test_a_plex_server_that_is_down_is_retried_then_fails(configured, settings):
    from homelab.jobs import RetryLater
    from tests.live import free_port

    services.save_settings({"plex_url": f"http://127.0.0.1:{free_port()}"})
    job = services.create_job(library_id="1")
    with pytest.raises(RetryLater):
        pipeline.plan_job(job.pk, retries_left=True)
    job.refresh_from_db()
    assert job.status == "pending" and job.last_error.endswith(": connection refused; retrying.")
    assert pipeline.plan_job(job.pk, retries_left=False) == []  # the last attempt
    job.refresh_from_db()
    assert job.status == "failed" and job.last_error.startswith("Could not reach the Plex server at http://127.0.0.1:")


def test_the_start_task_retries_with_backoff(configured, monkeypatch):
    from previews import tasks
    from tests.live import free_port

    services.save_settings({"plex_url": f"http://127.0.0.1:{free_port()}"})
    job = services.create_job(library_id="1")
    retried = {}

    def retry(**kwargs):
        retried.update(kwargs)
        return RuntimeError("retry")
    monkeypatch.setattr(tasks.start_job, "retry", retry)
    with pytest.raises(RuntimeError):
        tasks.start_job.run(str(job.pk))
    assert retried["countdown"] == 10 and retried["max_retries"] == 5


def test_a_failed_job_publishes_job_complete_and_job_error(configured):
    import json

    from homelab import events

    pubsub = events.redis_client().pubsub()
    pubsub.subscribe(events.CHANNEL_PREFIX + "previews")
    pubsub.get_message(timeout=1)  # the subscription itself
    services.save_settings({"plex_videos_path_mapping": "/elsewhere", "plex_local_videos_path_mapping": "/mnt/x"})
    job = services.create_job(library_id="1")
    pipeline.plan_job(job.pk)
    seen = {}
    while (message := pubsub.get_message(timeout=1)) is not None:
        if message["type"] == "message":
            body = json.loads(message["data"])
            seen[body["event"]] = body["data"]
    pubsub.close()
    job.refresh_from_db()
    assert seen["job_error"] == {"job_id": str(job.pk), "error": job.last_error}
    assert seen["job_complete"] == {"job_id": str(job.pk), "status": "failed", "progress": 100, "total": 2,
                                    "completed": 0, "failed": 2, "skipped": 0, "error": job.last_error}


def test_an_unknown_library_fails_at_once_even_with_retries_left(configured):
    job = services.create_job(library_id="42")
    assert pipeline.plan_job(job.pk, retries_left=True) == []
    job.refresh_from_db()
    assert (job.status, job.last_error) == ("failed", "The Plex server has no movie or show library with id 42.")


def test_a_malformed_plex_answer_fails_at_once_even_with_retries_left(configured):
    configured.server.route("GET", "/library/sections/1/all")(
        lambda call: (200, "<html><body>Sign in</body></html>", {"Content-Type": "text/html"}))
    job = services.create_job(library_id="1")
    assert pipeline.plan_job(job.pk, retries_left=True) == []
    job.refresh_from_db()
    assert job.status == "failed"
    assert job.last_error == (f"The Plex server at {configured.url} answered <html> for /library/sections/1/all, "
                              "not a MediaContainer.")
