"""GET/POST /api/epg/sources/, GET/PUT/PATCH/DELETE /api/epg/sources/{id}/ (Dispatcharr's EPG source)."""
import pytest
from django_celery_beat.models import PeriodicTask

from epg.models import EPGSource

from .conftest import import_now

pytestmark = pytest.mark.django_db

SOURCE_KEYS = {"id", "name", "source_type", "url", "file_path", "is_active", "refresh_interval", "priority", "status",
               "progress", "last_message", "created_at", "updated_at", "last_refresh", "channel_count",
               "programme_count"}


@pytest.fixture
def user_client(api_client, django_user_model):
    django_user_model.objects.create_user("viewer", password="viewer-pass-1")
    r = api_client.post("/api/accounts/token/", {"username": "viewer", "password": "viewer-pass-1"}, format="json")
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {r.json()['access']}")
    return api_client


def test_the_list_is_a_bare_array_with_the_dispatcharr_keys(admin_client_jwt, file_source):
    imported = import_now(file_source("iptv-org-base.guide.xml", name="_Teamarr - Detroit Sports", priority=5))
    EPGSource.objects.create(name="_Dummy - All Sports", source_type="dummy")
    r = admin_client_jwt.get("/api/epg/sources/")
    assert r.status_code == 200
    body = r.json()
    assert isinstance(body, list) and len(body) == 2
    assert all(set(s) == SOURCE_KEYS for s in body)
    first = body[0]
    assert first["id"] == imported.pk and first["name"] == "_Teamarr - Detroit Sports"
    assert first["status"] == "success" and first["is_active"] is True
    assert first["last_refresh"] == first["updated_at"] is not None
    assert first["channel_count"] == 4 and first["programme_count"] == 6
    dummy = body[1]
    assert (dummy["source_type"], dummy["url"], dummy["last_refresh"], dummy["status"]) == ("dummy", "", None, "idle")


def test_detail_is_the_same_object_and_404_speaks_detail(admin_client_jwt, db):
    source = EPGSource.objects.create(name="A", url="http://guide.example/epg.xml")
    r = admin_client_jwt.get(f"/api/epg/sources/{source.pk}/")
    assert r.status_code == 200 and r.json() == admin_client_jwt.get("/api/epg/sources/").json()[0]
    assert r.json()["url"] == "http://guide.example/epg.xml"
    r = admin_client_jwt.get("/api/epg/sources/999/")
    assert r.status_code == 404 and r.json() == {"detail": "No EPGSource matches the given query."}


def test_without_credentials_it_is_401(api_client, db):
    r = api_client.get("/api/epg/sources/")
    assert r.status_code == 401 and r.json() == {"detail": "Authentication credentials were not provided."}


def test_admins_create_and_the_schedule_follows(admin_client_jwt):
    r = admin_client_jwt.post("/api/epg/sources/", {"name": "New", "source_type": "url",
                                                    "url": "https://guide.example/epg.xml.gz",
                                                    "refresh_interval": 6, "priority": 3}, format="json")
    assert r.status_code == 201, r.content
    body = r.json()
    assert set(body) == SOURCE_KEYS and body["status"] == "idle" and body["updated_at"] is None
    source = EPGSource.objects.get(pk=body["id"])
    task = PeriodicTask.objects.get(pk=source.periodic_task_id)
    assert (task.task, task.args, task.interval.every, task.interval.period, task.enabled) == (
        "epg.refresh_due", f"[{source.pk}]", 6, "hours", True)

    r = admin_client_jwt.patch(f"/api/epg/sources/{source.pk}/", {"refresh_interval": 12}, format="json")
    assert r.status_code == 200 and r.json()["refresh_interval"] == 12
    task.refresh_from_db()
    assert task.interval.every == 12

    r = admin_client_jwt.patch(f"/api/epg/sources/{source.pk}/", {"is_active": False}, format="json")
    assert r.json()["status"] == "disabled"
    task.refresh_from_db()
    assert task.enabled is False

    r = admin_client_jwt.patch(f"/api/epg/sources/{source.pk}/", {"refresh_interval": 0}, format="json")
    assert not PeriodicTask.objects.filter(pk=task.pk).exists()
    assert EPGSource.objects.get(pk=source.pk).periodic_task_id is None

    r = admin_client_jwt.patch(f"/api/epg/sources/{source.pk}/", {"refresh_interval": 24, "is_active": True},
                               format="json")
    assert r.json()["status"] == "idle"
    task_id = EPGSource.objects.get(pk=source.pk).periodic_task_id
    assert PeriodicTask.objects.get(pk=task_id).enabled is True

    r = admin_client_jwt.delete(f"/api/epg/sources/{source.pk}/")
    assert r.status_code == 204
    assert not EPGSource.objects.filter(pk=source.pk).exists()
    assert not PeriodicTask.objects.filter(pk=task_id).exists()


def test_bad_input_is_refused_with_field_errors(admin_client_jwt, db):
    EPGSource.objects.create(name="Taken", url="http://a.example/x.xml")
    r = admin_client_jwt.post("/api/epg/sources/", {"name": "Taken", "url": "http://b.example/x.xml"}, format="json")
    assert r.status_code == 400 and r.json() == {"name": ["EPG source with this name already exists."]}
    r = admin_client_jwt.post("/api/epg/sources/", {"name": "NoURL", "source_type": "url"}, format="json")
    assert r.status_code == 400 and r.json() == {"url": ["A URL source needs a URL."]}
    r = admin_client_jwt.post("/api/epg/sources/", {"name": "F", "source_type": "file", "file_path": "/etc/passwd"},
                              format="json")
    assert r.status_code == 400 and r.json()["file_path"][0].startswith("The file path must be under the data dir")
    r = admin_client_jwt.post("/api/epg/sources/", {"name": "T", "source_type": "rss", "url": "http://a.example/"},
                              format="json")
    assert r.status_code == 400 and r.json() == {"source_type": ['"rss" is not a valid choice.']}
    assert EPGSource.objects.count() == 1


def test_a_file_can_be_uploaded(admin_client_jwt, fixture_path):
    with open(fixture_path("epg", "iptv-org-base.guide.xml"), "rb") as fh:
        r = admin_client_jwt.post("/api/epg/sources/", {"name": "Up", "source_type": "file", "file": fh},
                                  format="multipart")
    assert r.status_code == 201, r.content
    source = import_now(EPGSource.objects.get(pk=r.json()["id"]))
    assert source.status == "success" and source.programme_count == 6


def test_non_admins_read_but_do_not_write(user_client):
    source = EPGSource.objects.create(name="A", url="http://guide.example/epg.xml")
    assert user_client.get("/api/epg/sources/").status_code == 200
    forbidden = {"detail": "You do not have permission to perform this action."}
    r = user_client.post("/api/epg/sources/", {"name": "B", "url": "http://b.example/"}, format="json")
    assert r.status_code == 403 and r.json() == forbidden
    r = user_client.patch(f"/api/epg/sources/{source.pk}/", {"name": "C"}, format="json")
    assert r.status_code == 403 and r.json() == forbidden
    r = user_client.delete(f"/api/epg/sources/{source.pk}/")
    assert r.status_code == 403 and r.json() == forbidden
    assert EPGSource.objects.get().name == "A"


def test_an_uploaded_source_is_active_unless_told_otherwise(admin_client_jwt, fixture_path):
    """A multipart form leaves out what it does not set: is_active keeps its default (True), as with JSON."""
    with open(fixture_path("epg", "iptv-org-base.guide.xml"), "rb") as fh:
        r = admin_client_jwt.post("/api/epg/sources/", {"name": "Up", "source_type": "file", "file": fh},
                                  format="multipart")
    assert r.status_code == 201, r.content
    assert r.json()["is_active"] is True and r.json()["status"] == "idle"
    assert admin_client_jwt.post("/api/epg/import/", {"id": r.json()["id"]}, format="json").status_code == 202
    with open(fixture_path("epg", "iptv-org-base.guide.xml"), "rb") as fh:
        r = admin_client_jwt.post("/api/epg/sources/", {"name": "Off", "source_type": "file", "file": fh,
                                                        "is_active": "false"}, format="multipart")
    assert r.status_code == 201 and r.json()["is_active"] is False and r.json()["status"] == "disabled"


def _worker_swaps_meanwhile(new_generation, when):
    """A pre_save receiver standing for the worker: it swaps a new guide in between the API's read of the row
    and its write (the window of a PATCH that arrives as an import ends)."""

    def swap(sender, instance, **kwargs):
        EPGSource.objects.filter(pk=instance.pk).update(
            status="success", generation=new_generation, updated_at=when, progress=100, channel_count=4,
            programme_count=6, last_message="Imported 4 channels and 6 programmes in 0.1 s.", run_token="worker")

    return swap


def test_an_edit_during_an_import_does_not_undo_what_the_import_wrote(admin_client_jwt, admin_client, db):
    from datetime import datetime, timezone

    from django.db.models.signals import pre_save

    when = datetime(2030, 1, 1, tzinfo=timezone.utc)
    for n, (client, edit) in enumerate([
        (admin_client_jwt, lambda pk: admin_client_jwt.patch(f"/api/epg/sources/{pk}/", {"priority": 9},
                                                             format="json")),
        (admin_client, lambda pk: admin_client.post(f"/admin/epg/epgsource/{pk}/change/", {
            "name": f"S{n}", "source_type": "url", "url": "http://guide.example/epg.xml", "is_active": "on",
            "priority": "9", "refresh_interval": "0"})),
    ]):
        source = EPGSource.objects.create(name=f"S{n}", url="http://guide.example/epg.xml", refresh_interval=0,
                                          status="parsing", run_token="worker", progress=40)
        swap = _worker_swaps_meanwhile(5, when)
        pre_save.connect(swap, sender=EPGSource, dispatch_uid="test-worker-swap")
        try:
            r = edit(source.pk)
        finally:
            pre_save.disconnect(sender=EPGSource, dispatch_uid="test-worker-swap")
        assert r.status_code in (200, 302), r.content
        row = EPGSource.objects.get(pk=source.pk)
        assert row.priority == 9
        assert (row.status, row.generation, row.updated_at, row.progress, row.channel_count) == (
            "success", 5, when, 100, 4)
        if r.status_code == 200:
            assert r.json()["status"] == "success" and r.json()["last_refresh"] == "2030-01-01T00:00:00Z"


def test_turning_a_source_off_and_on_sets_its_status_unless_it_is_importing(admin_client_jwt, db):
    source = EPGSource.objects.create(name="A", url="http://guide.example/epg.xml", refresh_interval=0)
    r = admin_client_jwt.patch(f"/api/epg/sources/{source.pk}/", {"is_active": False}, format="json")
    assert (r.json()["is_active"], r.json()["status"]) == (False, "disabled")
    r = admin_client_jwt.patch(f"/api/epg/sources/{source.pk}/", {"is_active": True}, format="json")
    assert (r.json()["is_active"], r.json()["status"]) == (True, "idle")
    EPGSource.objects.filter(pk=source.pk).update(status="parsing")
    r = admin_client_jwt.patch(f"/api/epg/sources/{source.pk}/", {"is_active": False}, format="json")
    assert (r.json()["is_active"], r.json()["status"]) == (False, "parsing")


@pytest.mark.parametrize("url", [
    "http://teamarr:9195/teamarr.xml",  # a container by its compose service name (the guide's own example)
    "http://my_guide:8080/epg.xml.gz",
    "https://epg.example.com/guide.xml?user=a&pass=b",
    "http://192.168.1.10:8000/output/epg.xml",
    "http://[::1]:8000/epg.xml",
])
def test_a_url_on_any_host_name_is_accepted(admin_client_jwt, admin_client, url):
    r = admin_client_jwt.post("/api/epg/sources/", {"name": "API", "source_type": "url", "url": url}, format="json")
    assert r.status_code == 201 and r.json()["url"] == url, r.content
    r = admin_client.post("/admin/epg/epgsource/add/", {"name": "Admin", "source_type": "url", "url": url,
                                                        "is_active": "on", "priority": "0", "refresh_interval": "0"})
    assert r.status_code == 302, r.content.decode()[-3000:]
    assert EPGSource.objects.get(name="Admin").url == url


@pytest.mark.parametrize("url, message", [
    ("ftp://guide.example/epg.xml", "Only http and https URLs are supported."),
    ("guide.example/epg.xml", "Only http and https URLs are supported."),
    ("http:///epg.xml", "Enter a valid URL."),
    ("http://guide.example:99999/epg.xml", "Enter a valid URL."),
    ("http://bad host/epg.xml", "Enter a valid URL."),
])
def test_a_url_that_cannot_be_fetched_is_refused(admin_client_jwt, url, message):
    r = admin_client_jwt.post("/api/epg/sources/", {"name": "X", "source_type": "url", "url": url}, format="json")
    assert r.status_code == 400 and r.json() == {"url": [message]}


def test_an_uploaded_guide_is_removed_when_replaced_or_when_its_source_is_deleted(admin_client_jwt, fixture_path,
                                                                                 django_capture_on_commit_callbacks):
    from pathlib import Path

    with open(fixture_path("epg", "iptv-org-base.guide.xml"), "rb") as fh:
        r = admin_client_jwt.post("/api/epg/sources/", {"name": "Up", "source_type": "file", "file": fh},
                                  format="multipart")
    source = EPGSource.objects.get(pk=r.json()["id"])
    first = Path(source.file.path)
    assert first.is_file()
    with django_capture_on_commit_callbacks(execute=True):
        with open(fixture_path("epg", "iptv-org-multilang.guide.xml"), "rb") as fh:
            r = admin_client_jwt.patch(f"/api/epg/sources/{source.pk}/", {"file": fh}, format="multipart")
    assert r.status_code == 200, r.content
    source.refresh_from_db()
    second = Path(source.file.path)
    assert second.is_file() and second != first and not first.exists()
    with django_capture_on_commit_callbacks(execute=True):
        assert admin_client_jwt.delete(f"/api/epg/sources/{source.pk}/").status_code == 204
    assert not second.exists()


def test_editing_a_source_deleted_meanwhile_is_404(admin_client_jwt, db, monkeypatch):
    source = EPGSource.objects.create(name="Gone", url="http://guide.example/epg.xml", refresh_interval=0)
    original = EPGSource.save_settings

    def deleted_first(self, fields):
        EPGSource.objects.filter(pk=self.pk).delete()
        return original(self, fields)

    monkeypatch.setattr(EPGSource, "save_settings", deleted_first)
    r = admin_client_jwt.patch(f"/api/epg/sources/{source.pk}/", {"priority": 3}, format="json")
    assert r.status_code == 404
    assert r.json() == {"detail": "Not found."}
    assert not EPGSource.objects.filter(pk=source.pk).exists()


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_a_source_id_past_int64_is_404(admin_client_jwt, db, method):
    """Defect 7: /api/epg/sources/9223372036854775808/ was a 500 on SQLite (OverflowError)."""
    r = getattr(admin_client_jwt, method)("/api/epg/sources/9223372036854775808/", {}, format="json")
    assert r.status_code == 404 and r.json() == {"detail": "No EPGSource matches the given query."}


@pytest.mark.parametrize("field, value, message", [
    ("refresh_interval", 100000000, "Ensure this value is less than or equal to 8760."),  # defect 1
    ("refresh_interval", 8761, "Ensure this value is less than or equal to 8760."),
    ("refresh_interval", -1, "Ensure this value is greater than or equal to 0."),
    ("priority", 2 ** 70, "Ensure this value is less than or equal to 2147483647."),
    ("priority", -(2 ** 70), "Ensure this value is greater than or equal to -2147483648."),
])
def test_intervals_and_numbers_out_of_range_are_400_and_create_no_schedule(admin_client_jwt, db, field, value,
                                                                          message):
    """Defect 1: refresh_interval 100000000 was a 201, and beat then died at every start (OverflowError)."""
    from django_celery_beat.models import PeriodicTask

    tasks_before = PeriodicTask.objects.count()
    r = admin_client_jwt.post("/api/epg/sources/", {"name": "Big", "url": "http://a.example/x.xml", field: value},
                              format="json")
    assert r.status_code == 400 and r.json() == {field: [message]}
    source = EPGSource.objects.create(name="Kept", url="http://a.example/x.xml")
    r = admin_client_jwt.patch(f"/api/epg/sources/{source.pk}/", {field: value}, format="json")
    assert r.status_code == 400 and r.json() == {field: [message]}
    assert EPGSource.objects.count() == 1 and PeriodicTask.objects.count() == tasks_before + 1


def test_a_year_is_the_longest_refresh_interval(admin_client_jwt, db):
    r = admin_client_jwt.post("/api/epg/sources/", {"name": "Yearly", "url": "http://a.example/x.xml",
                                                    "refresh_interval": 8760}, format="json")
    assert r.status_code == 201 and r.json()["refresh_interval"] == 8760


def test_the_admin_form_refuses_a_refresh_interval_over_a_year(admin_client, db):
    r = admin_client.post("/admin/epg/epgsource/add/", {"name": "Admin", "source_type": "url",
                                                        "url": "http://a.example/x.xml", "is_active": "on",
                                                        "priority": "0", "refresh_interval": "100000000"})
    assert r.status_code == 200
    assert "Ensure this value is less than or equal to 8760." in r.content.decode()
    assert not EPGSource.objects.filter(name="Admin").exists()


def test_a_source_stored_before_the_bound_is_brought_to_a_year_with_its_beat_row(db):
    import importlib

    from django.apps import apps
    from django_celery_beat.models import PeriodicTask

    migration = importlib.import_module("epg.migrations.0008_bounded_intervals")
    source = EPGSource.objects.create(name="Old", url="http://a.example/x.xml", refresh_interval=6)
    EPGSource.objects.filter(pk=source.pk).update(refresh_interval=100000000)
    migration.clamp(apps, None)
    source.refresh_from_db()
    task = PeriodicTask.objects.get(pk=source.periodic_task_id)
    assert source.refresh_interval == 8760 and (task.interval.every, task.interval.period) == (8760, "hours")


def test_the_status_rule_lives_on_the_model_not_in_a_pre_save_handler(db):
    from django.db.models.signals import pre_save

    assert not pre_save.has_listeners(EPGSource)
    source = EPGSource(name="M", url="http://a.example/x.xml", is_active=False)
    source.save()
    assert EPGSource.objects.get(pk=source.pk).status == "disabled"
    source.is_active = True
    source.save()
    assert EPGSource.objects.get(pk=source.pk).status == "idle"
    EPGSource.objects.filter(pk=source.pk).update(status="parsing")
    source.refresh_from_db()
    source.is_active = False
    source.save()  # an import is running: it ends as it ends
    assert EPGSource.objects.get(pk=source.pk).status == "parsing"
