"""POST /api/epg/import/: Dispatcharr's {"success": ..., "message": ...}."""
from datetime import timezone

import pytest

from epg.models import EPGSource

pytestmark = pytest.mark.django_db


def test_it_accepts_and_claims(admin_client_jwt, django_capture_on_commit_callbacks, monkeypatch):
    from epg import tasks

    queued = []
    monkeypatch.setattr(tasks.import_source, "delay", lambda *a: queued.append(a))
    source = EPGSource.objects.create(name="A", url="http://guide.example/epg.xml")
    with django_capture_on_commit_callbacks(execute=True):
        r = admin_client_jwt.post("/api/epg/import/", {"id": source.pk}, format="json")
    assert r.status_code == 202
    assert r.json() == {"success": True, "message": "EPG data import initiated."}
    row = EPGSource.objects.get(pk=source.pk)
    assert row.status == "fetching" and row.run_token
    assert queued == [(source.pk, row.run_token)]

    # a second request while it runs: 202 again (the contract's shape), nothing new started, and it says so
    with django_capture_on_commit_callbacks(execute=True):
        r = admin_client_jwt.post("/api/epg/import/", {"id": source.pk}, format="json")
    assert r.status_code == 202
    since = row.status_changed_at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert r.json() == {"success": True, "message": f"An import is already running (since {since})."}
    assert len(queued) == 1 and EPGSource.objects.get(pk=source.pk).run_token == row.run_token


def test_a_dummy_source_is_400(admin_client_jwt):
    source = EPGSource.objects.create(name="D", source_type="dummy")
    r = admin_client_jwt.post("/api/epg/import/", {"id": source.pk}, format="json")
    assert r.status_code == 400
    assert r.json() == {"success": False, "message": "Dummy EPG sources do not require refreshing."}
    assert EPGSource.objects.get(pk=source.pk).status == "idle"


def test_an_inactive_source_is_400(admin_client_jwt):
    source = EPGSource.objects.create(name="Off", url="http://guide.example/epg.xml", is_active=False)
    r = admin_client_jwt.post("/api/epg/import/", {"id": source.pk}, format="json")
    assert r.status_code == 400 and r.json() == {"success": False, "message": "EPG source is not active."}


def test_an_unknown_id_is_404(admin_client_jwt):
    r = admin_client_jwt.post("/api/epg/import/", {"id": 4242}, format="json")
    assert r.status_code == 404 and r.json() == {"success": False, "message": "EPG source not found."}


def test_a_missing_or_bad_id_is_400(admin_client_jwt):
    r = admin_client_jwt.post("/api/epg/import/", {}, format="json")
    assert r.status_code == 400 and r.json() == {"success": False, "message": "id: This field is required."}
    r = admin_client_jwt.post("/api/epg/import/", {"id": "x"}, format="json")
    assert r.status_code == 400 and r.json() == {"success": False, "message": "id: A valid integer is required."}


def test_without_a_token_it_is_401_in_the_same_dialect(api_client):
    r = api_client.post("/api/epg/import/", {"id": 1}, format="json")
    assert r.status_code == 401
    assert r.json() == {"success": False, "message": "Authentication credentials were not provided."}


def test_a_broker_outage_is_written_on_the_row(admin_client_jwt, django_capture_on_commit_callbacks, monkeypatch):
    from epg import tasks

    def down(*a):
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.import_source, "delay", down)
    source = EPGSource.objects.create(name="A", url="http://guide.example/epg.xml")
    with django_capture_on_commit_callbacks(execute=True):
        r = admin_client_jwt.post("/api/epg/import/", {"id": source.pk}, format="json")
    assert r.status_code == 202
    row = EPGSource.objects.get(pk=source.pk)
    assert row.status == "error"
    assert row.last_message == "Could not queue the import (task broker unavailable: ConnectionError)."


def test_after_a_worker_is_killed_mid_import_the_sweep_frees_it_and_a_request_starts_a_new_one(
        admin_client_jwt, django_capture_on_commit_callbacks, monkeypatch, clock, settings):
    """Defect 4: kill -9 of the worker left the source "parsing 19 %" and every request answered
    "EPG data import initiated." while nothing started."""
    from epg import tasks
    from homelab.tasks import sweep_jobs

    queued = []
    monkeypatch.setattr(tasks.import_source, "delay", lambda *a: queued.append(a))
    source = EPGSource.objects.create(name="A", url="http://guide.example/epg.xml")
    with django_capture_on_commit_callbacks(execute=True):
        admin_client_jwt.post("/api/epg/import/", {"id": source.pk}, format="json")
    token = queued[0][1]
    EPGSource.objects.filter(pk=source.pk).update(status="parsing", progress=19, heartbeat_at=clock.now())
    # the worker is killed here: no heartbeat any more
    r = admin_client_jwt.post("/api/epg/import/", {"id": source.pk}, format="json")
    assert r.json()["message"].startswith("An import is already running (since ")
    clock.travel(settings.JOB_HEARTBEAT_STALE + 1)
    sweep_jobs()
    assert EPGSource.objects.get(pk=source.pk).status == "error"
    with django_capture_on_commit_callbacks(execute=True):
        r = admin_client_jwt.post("/api/epg/import/", {"id": source.pk}, format="json")
    assert r.status_code == 202 and r.json() == {"success": True, "message": "EPG data import initiated."}
    assert len(queued) == 2 and queued[1][1] != token


def test_an_id_past_int64_is_404(admin_client_jwt):
    """Defect 7: an id the database cannot hold is an unknown source, not a 500."""
    r = admin_client_jwt.post("/api/epg/import/", {"id": 9223372036854775808}, format="json")
    assert r.status_code == 404 and r.json() == {"success": False, "message": "EPG source not found."}
