"""Jobs API: create, list, detail (with workers), cancel, delete; exact keys, 404 NOT_FOUND for unknown ids."""
import uuid

import pytest

from previews import slots
from previews.models import Job, JobItem

pytestmark = pytest.mark.django_db

SUMMARY_KEYS = {"id", "status", "library_id", "library_name", "progress", "total_items", "completed_items",
                "failed_items", "skipped_items", "created_at", "started_at", "finished_at", "error"}


def test_create_then_list_and_detail(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as queued:
        response = client.post("/previews/api/jobs", {"library_id": "1", "library_name": "Movies"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "status", "message"}
    assert body["status"] == "pending" and body["message"] == "Job created successfully"
    assert len(queued) == 1  # the start task, once the row is committed

    jobs = client.get("/previews/api/jobs").json()["jobs"]
    assert len(jobs) == 1 and set(jobs[0]) == SUMMARY_KEYS
    assert (jobs[0]["id"], jobs[0]["library_id"], jobs[0]["library_name"]) == (body["id"], "1", "Movies")

    detail = client.get(f"/previews/api/jobs/{body['id']}").json()
    assert set(detail) == SUMMARY_KEYS | {"workers"}
    assert detail["workers"] == [{"id": 0, "type": "cpu", "status": "idle", "current_item": None},
                                 {"id": 1, "type": "cpu", "status": "idle", "current_item": None}]


def test_workers_show_the_held_slots(client):
    client.post("/previews/api/settings", {"gpu_threads": 1, "cpu_threads": 1}, format="json")
    job = Job.objects.create(library_id="1")
    slots.acquire("cpu", 1, "test-holder", title="Sintel", item_id=1, job_id=str(job.pk))
    workers = client.get(f"/previews/api/jobs/{job.pk}").json()["workers"]
    assert workers == [{"id": 0, "type": "gpu", "status": "idle", "current_item": None},
                       {"id": 1, "type": "cpu", "status": "working", "current_item": "Sintel"}]


@pytest.mark.parametrize("body, field", [({}, "library_id"), ({"library_id": ""}, "library_id"),
                                         ({"library_id": "1/../2"}, "library_id"),
                                         ({"library_id": "1", "library_name": "x" * 201}, "library_name")])
def test_a_bad_job_is_refused(client, body, field):
    response = client.post("/previews/api/jobs", body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION_ERROR" and response.json()["error"].startswith(f"{field}: ")
    assert not Job.objects.exists()


@pytest.mark.parametrize("job_id", [str(uuid.uuid4()), "job-123", "1"])
def test_unknown_ids_are_404(client, job_id):
    for method, path in (("get", ""), ("delete", ""), ("post", "/cancel")):
        response = getattr(client, method)(f"/previews/api/jobs/{job_id}{path}")
        assert response.status_code == 404
        assert response.json() == {"error": f"Job {job_id} not found.", "code": "NOT_FOUND"}


def test_cancel_stops_the_queued_items_at_once(client):
    job = Job.objects.create(library_id="1", status="running")
    items = [JobItem.objects.create(job=job, plex_id=str(n), title=f"t{n}", media_hash=f"h{n}") for n in range(3)]
    JobItem.objects.filter(pk=items[0].pk).update(status="completed")
    response = client.post(f"/previews/api/jobs/{job.pk}/cancel")
    assert response.json() == {"success": True, "message": "Job cancelled"}
    job.refresh_from_db()
    assert job.status == "cancelled" and job.finished_at is not None
    assert sorted(JobItem.objects.values_list("status", flat=True)) == ["cancelled", "cancelled", "completed"]
    assert (job.completed_items, job.progress) == (1, 100)


def test_cancelling_a_finished_job_is_refused(client):
    job = Job.objects.create(library_id="1", status="completed")
    response = client.post(f"/previews/api/jobs/{job.pk}/cancel")
    assert response.status_code == 400
    assert response.json() == {"error": "Job is already completed; only pending or running jobs can be cancelled.",
                               "code": "VALIDATION_ERROR"}


def test_delete_removes_the_job_and_its_items(client):
    job = Job.objects.create(library_id="1", status="running")
    JobItem.objects.create(job=job, plex_id="1", media_hash="h")
    response = client.delete(f"/previews/api/jobs/{job.pk}")
    assert response.json() == {"success": True}
    assert not Job.objects.exists() and not JobItem.objects.exists()


def test_the_list_is_newest_first_and_limited(client):
    for n in range(3):
        Job.objects.create(library_id=str(n))
    assert [j["library_id"] for j in client.get("/previews/api/jobs", {"limit": 2}).json()["jobs"]] == ["2", "1"]
    response = client.get("/previews/api/jobs", {"limit": "lots"})
    assert response.status_code == 400 and response.json()["error"].startswith("limit: ")


def test_a_user_who_is_not_staff_may_read_but_not_create(api_client, django_user_model):
    django_user_model.objects.create_user("viewer", password="viewer-pass-1")
    api_client.login(username="viewer", password="viewer-pass-1")
    assert api_client.get("/previews/api/jobs").status_code == 200
    response = api_client.post("/previews/api/jobs", {"library_id": "1"}, format="json")
    assert response.status_code == 403

