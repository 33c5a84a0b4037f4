"""The import service: staging and swap, bad files, duplicates, missing stop, downloads."""
import gzip
from datetime import datetime, timezone

import pytest

from epg import services, tasks
from epg.models import EPGChannel, EPGSource, Programme

from homelab import jobs

from .conftest import import_now

pytestmark = pytest.mark.django_db

UTC = timezone.utc


def served(source):
    return Programme.objects.filter(channel__source=source, channel__generation=source.generation)


def test_a_guide_is_imported_with_counts_and_success(file_source):
    source = import_now(file_source("iptv-org-base.guide.xml"))
    assert source.status == "success"
    assert (source.channel_count, source.programme_count) == (4, 6)
    assert source.updated_at is not None and source.progress == 100
    assert source.last_message.startswith("Imported 4 channels and 6 programmes in ")
    assert set(EPGChannel.objects.current().filter(source=source).values_list("tvg_id", flat=True)) == {
        "Channel1.us@HD", "Channel2.us", "140", "Channel3.us"}
    assert served(source).count() == 6


def test_a_gzip_file_source_is_imported(file_source):
    source = import_now(file_source("iptv-org-guide.xml.gz"))
    assert source.status == "success" and source.programme_count == 3


def test_a_new_import_replaces_the_old_guide_and_leaves_no_stale_rows(file_source, guide_file):
    source = import_now(file_source("iptv-org-base.guide.xml"))
    first_generation = source.generation
    source.file_path = guide_file("iptv-org-multilang.guide.xml")
    source.save()
    source = import_now(source)
    assert source.generation > first_generation
    assert served(source).count() == source.programme_count == 4
    # the replaced generation is no longer served, and the after-import task deletes it
    assert EPGChannel.objects.filter(source=source, generation=first_generation).exists()
    services.after_import(source.pk)
    assert EPGChannel.objects.filter(source=source).exclude(generation=source.generation).count() == 0
    assert Programme.objects.count() == 4


@pytest.mark.parametrize("name, message", [
    ("own-broken.xml", "Malformed XML: "),
    ("own-empty.xml", "The guide has no channels and no programmes; the previous guide is kept."),
    ("own-entity-bomb.xml", "The guide declares XML entities in its DTD; refused (entity expansion is disabled)."),
])
def test_a_bad_file_ends_in_error_and_keeps_the_old_guide(file_source, guide_file, name, message):
    source = import_now(file_source("iptv-org-base.guide.xml"))
    before = (source.generation, source.updated_at, source.programme_count,
              sorted(served(source).values_list("id", flat=True)))
    source.file_path = guide_file(name)
    source.save()
    source = import_now(source)
    assert source.status == "error"
    assert source.last_message.startswith(message)
    assert (source.generation, source.updated_at, source.programme_count,
            sorted(served(source).values_list("id", flat=True))) == before
    # the staged rows of the failed import are gone
    assert EPGChannel.objects.filter(source=source).exclude(generation=source.generation).count() == 0


def test_a_missing_file_is_an_error(file_source, settings):
    source = file_source("iptv-org-base.guide.xml")
    source.file_path = "nowhere/guide.xml"
    source.save()
    source = import_now(source)
    assert source.status == "error" and source.last_message == "The file guide.xml does not exist."
    assert source.updated_at is None


def test_a_missing_stop_ends_where_the_next_programme_starts(file_source):
    source = import_now(file_source("own-missing-stop.xml"))
    rows = list(served(source).order_by("start").values_list("title", "start", "stop"))
    assert rows == [
        ("A", datetime(2025, 1, 1, 11, 0, tzinfo=UTC), datetime(2025, 1, 1, 11, 45, tzinfo=UTC)),
        ("B", datetime(2025, 1, 1, 11, 45, tzinfo=UTC), datetime(2025, 1, 1, 14, 0, tzinfo=UTC)),
        ("C no zone", datetime(2025, 1, 1, 14, 0, tzinfo=UTC), datetime(2025, 1, 1, 15, 0, tzinfo=UTC)),
        # the last one has no next programme: one hour
        ("D last", datetime(2025, 1, 1, 15, 0, tzinfo=UTC), datetime(2025, 1, 1, 16, 0, tzinfo=UTC)),
    ]


def test_duplicates_keep_the_first_and_overlaps_are_kept(file_source):
    source = import_now(file_source("own-duplicates.xml"))
    assert list(served(source).order_by("start").values_list("title", flat=True)) == ["First", "Second"]
    assert source.programme_count == 2
    channel = EPGChannel.objects.current().get(source=source)
    assert channel.name == "Dup One"  # the first declaration wins
    source = import_now(file_source("own-overlap.xml"))
    assert list(served(source).order_by("start").values_list("title", flat=True)) == ["Long", "Starts early"]


def test_a_programme_before_its_channel_gets_the_channel_declared_later(file_source):
    xml = (b'<?xml version="1.0"?><tv>'
           b'<programme start="20250101000000 +0000" stop="20250101010000 +0000" channel="late.example">'
           b'<title>Early</title></programme>'
           b'<programme start="20250101000000 +0000" stop="20250101010000 +0000" channel="undeclared.example">'
           b'<title>Orphan</title></programme>'
           b'<channel id="late.example"><display-name>Late Channel</display-name><icon src="http://l/1.png"/></channel>'
           b'</tv>')
    source = import_now(file_source("late.xml", xml))
    channels = {c.tvg_id: c for c in EPGChannel.objects.current().filter(source=source)}
    assert channels["late.example"].name == "Late Channel"
    assert channels["late.example"].icon_url == "http://l/1.png"
    assert channels["undeclared.example"].name == "undeclared.example"
    assert served(source).count() == 2


def test_entities_and_episode_numbers_are_stored(file_source):
    source = import_now(file_source("own-entities.xml"))
    p = served(source).get()
    assert p.title == "Fish & Chips <Live>"
    channel = EPGChannel.objects.current().get(source=source)
    assert channel.name == "Tom & Jerry TV"
    source = import_now(file_source("jellyfin-multilanguage.xml"))
    p = served(source).order_by("start").first()
    assert (p.episode_xmltv_ns, p.season, p.episode) == ("18.50/30.", 19, 51)
    assert p.title == "Homes Under the Hammer - English"


def test_a_second_claim_while_running_starts_nothing(file_source):
    source = file_source("iptv-org-base.guide.xml")
    token = services.request_refresh(source)
    assert token and EPGSource.objects.get(pk=source.pk).run_token == token
    assert services.request_refresh(source) is None
    row = EPGSource.objects.get(pk=source.pk)
    assert row.status == "fetching" and row.run_token == token
    # a stale task (another token) does nothing; the claimed one runs
    assert services.run_import(source.pk, "not-the-token") is None
    assert services.run_import(source.pk, token) == "success"
    assert services.run_import(source.pk, token) is None  # a re-delivery after the end does nothing


def test_dummy_and_inactive_sources_are_refused(db):
    dummy = EPGSource.objects.create(name="d", source_type="dummy")
    with pytest.raises(services.RefreshRefused, match="Dummy EPG sources do not require refreshing."):
        services.request_refresh(dummy)
    off = EPGSource.objects.create(name="off", url="http://x.example/epg.xml", is_active=False)
    assert off.status == "disabled"
    with pytest.raises(services.RefreshRefused, match="EPG source is not active."):
        services.request_refresh(off)


def test_a_url_source_is_downloaded(fake_server, fixture_path):
    srv = fake_server()
    body = gzip.compress(fixture_path("epg", "iptv-org-base.guide.xml").read_bytes())
    srv.route("GET", "/guide.xml")(lambda call: (200, body, {"Content-Type": "application/xml"}))
    source = EPGSource.objects.create(name="u", url=f"{srv.url}/guide.xml", refresh_interval=0)
    source = import_now(source)
    assert source.status == "success" and source.programme_count == 6


def test_download_errors_say_why_and_keep_the_guide(fake_server, fixture_path, settings):
    srv = fake_server()
    xml = fixture_path("epg", "iptv-org-base.guide.xml").read_bytes()
    state = {"status": 200}
    srv.route("GET", "/guide.xml")(lambda call: (state["status"], xml if state["status"] == 200 else "no"))
    source = import_now(EPGSource.objects.create(name="u", url=f"{srv.url}/guide.xml?token=SECRET"))
    assert source.status == "success"
    state["status"] = 404
    source = import_now(source)
    assert source.status == "error"
    assert source.last_message == f"Download failed: GET {srv.url}/guide.xml: HTTP 404"
    assert "SECRET" not in source.last_message
    assert served(source).count() == 6
    state["status"] = 200
    settings.EPG_MAX_DOWNLOAD_BYTES = 100
    source = import_now(source)
    assert source.status == "error" and "over the 100-byte cap" in source.last_message
    assert served(source).count() == 6


def test_a_refused_connection_is_an_error(db):
    source = import_now(EPGSource.objects.create(name="u", url="http://127.0.0.1:9/guide.xml"))
    assert source.status == "error"
    assert source.last_message == "Download failed: GET http://127.0.0.1:9/guide.xml: connection refused"


def test_a_queued_import_never_started_is_reset_after_the_task_time_limit(db, settings, clock):
    from homelab.tasks import sweep_jobs

    source = EPGSource.objects.create(name="s", url="http://x.example/g.xml")
    assert services.request_refresh(source)
    clock.travel(settings.JOB_HEARTBEAT_STALE * 10)
    assert sweep_jobs() == {}  # waiting in the queue for a busy worker is no lost claim
    clock.travel(settings.CELERY_TASK_TIME_LIMIT + 700)
    assert sweep_jobs() == {"epg.EPGSource": 1}
    source.refresh_from_db()
    assert source.status == "error" and source.last_message.startswith("Reset: still running after")


def test_a_running_import_touches_its_heartbeat_as_it_goes(file_source, clock, settings):
    settings.JOB_HEARTBEAT_INTERVAL = 5
    source = file_source("iptv-org-base.guide.xml")
    token = services.request_refresh(source)
    assert EPGSource.objects.get(pk=source.pk).heartbeat_at is None  # queued: no worker yet
    progress = services._Progress(source.pk, token)
    progress(EPGSource.Status.PARSING, 10, "Parsing the guide.", force=True)
    first = EPGSource.objects.get(pk=source.pk).heartbeat_at
    assert first is not None
    clock.travel(6)
    progress(EPGSource.Status.PARSING, 10, "Parsing the guide.")  # no new percent: only the heartbeat
    assert (EPGSource.objects.get(pk=source.pk).heartbeat_at - first).total_seconds() >= 6
    clock.travel(6)
    progress.beat()
    assert (EPGSource.objects.get(pk=source.pk).heartbeat_at - first).total_seconds() >= 12
    started = clock.now()
    assert services.run_import(source.pk, token) == "success"
    assert EPGSource.objects.get(pk=source.pk).heartbeat_at >= started.replace(microsecond=0)


def test_an_import_lost_with_its_worker_is_freed_by_the_sweep_within_two_minutes(file_source, clock, settings):
    from homelab.tasks import sweep_jobs

    source = file_source("iptv-org-base.guide.xml")
    token = services.request_refresh(source)
    progress = services._Progress(source.pk, token)
    progress(EPGSource.Status.PARSING, 19, "Parsed 1000 programmes.", force=True)  # then kill -9
    clock.travel(settings.JOB_HEARTBEAT_STALE - 1)
    assert sweep_jobs() == {}
    clock.travel(2)
    assert settings.JOB_HEARTBEAT_STALE + 30 <= 120  # the sweep runs every 30 s
    assert sweep_jobs() == {"epg.EPGSource": 1}
    row = EPGSource.objects.get(pk=source.pk)
    assert (row.status, row.progress, row.run_token) == ("error", 0, "")
    assert row.last_message == (f"Stopped: no heartbeat for {int(settings.JOB_HEARTBEAT_STALE)} s "
                                "(the worker was lost); run it again.")
    # the lost run, were it only slow, stops at its next write instead of overwriting a new claim
    with pytest.raises(services.ImportAborted):
        progress(EPGSource.Status.PARSING, 40, "Parsed 2000 programmes.", force=True)
    assert services.request_refresh(source)  # and a new import can start


def test_services_never_import_tasks():
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(services))
    imported = [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    imported += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    assert [m for m in imported if m.endswith("tasks")] == []


def test_a_temporary_download_failure_keeps_the_claim_for_a_retry(fake_server, fixture_path):
    srv = fake_server()
    xml = fixture_path("epg", "iptv-org-base.guide.xml").read_bytes()
    answers = [(503, "busy"), (200, xml)]
    srv.route("GET", "/guide.xml")(lambda call: answers.pop(0))
    source = EPGSource.objects.create(name="u", url=f"{srv.url}/guide.xml")
    assert services.request_refresh(source)
    token = EPGSource.objects.get(pk=source.pk).run_token
    with pytest.raises(jobs.RetryLater):
        services.run_import(source.pk, token, may_retry=True)
    row = EPGSource.objects.get(pk=source.pk)
    assert row.status == "fetching" and row.run_token == token
    assert row.last_message == f"Download failed: GET {srv.url}/guide.xml: HTTP 503 (temporary; retrying)"
    assert services.run_import(source.pk, token, may_retry=True) == "success"


def test_a_permanent_failure_is_not_retried(fake_server):
    srv = fake_server()
    srv.route("GET", "/guide.xml")(lambda call: (403, "no"))
    source = EPGSource.objects.create(name="u", url=f"{srv.url}/guide.xml")
    assert services.request_refresh(source)
    token = EPGSource.objects.get(pk=source.pk).run_token
    assert services.run_import(source.pk, token, may_retry=True) == "error"
    assert EPGSource.objects.get(pk=source.pk).last_message.endswith("HTTP 403")


def test_the_periodic_refresh_claims_and_runs(file_source):
    from django_celery_beat.models import PeriodicTask

    source = file_source("iptv-org-base.guide.xml", refresh_interval=6)
    task = PeriodicTask.objects.get(pk=source.periodic_task_id)
    assert (task.task, task.args) == ("epg.refresh_due", f"[{source.pk}]")
    tasks.refresh_due(source.pk)
    source.refresh_from_db()
    assert source.status == "success" and source.programme_count == 6
    tasks.refresh_due(4242)  # gone: nothing happens
    dummy = EPGSource.objects.create(name="dummy", source_type="dummy", refresh_interval=6)
    assert dummy.periodic_task_id is None
    tasks.refresh_due(dummy.pk)
    assert EPGSource.objects.get(pk=dummy.pk).status == "idle"


def test_a_source_deleted_during_its_import_leaves_no_rows_behind(file_source, settings, monkeypatch, caplog):
    """Deleting the source mid-import removes what was staged so far; the programmes the import writes after
    that must not stay behind without a channel (the import stops, and cleans up by channel id)."""
    settings.EPG_IMPORT_BATCH_SIZE = 2
    keep = import_now(file_source("iptv-org-multilang.guide.xml"))  # another source's guide is left alone
    kept = Programme.objects.count()
    source = file_source("iptv-org-base.guide.xml")  # 4 channels, 6 programmes: three batches
    original = services._BatchWriter.flush
    calls = []

    def flush(self):
        original(self)
        calls.append(1)
        if len(calls) == 1:
            EPGSource.objects.get(pk=source.pk).delete()

    monkeypatch.setattr(services._BatchWriter, "flush", flush)
    token = "deleted-under-it"
    assert services.jobs.claim(EPGSource, source.pk, running=EPGSource.RUNNING, to="fetching", run_token=token)
    services.run_import(source.pk, token)
    assert not EPGSource.objects.filter(pk=source.pk).exists()
    assert EPGChannel.objects.exclude(source=keep).count() == 0
    assert Programme.objects.count() == kept
    assert not [r for r in caplog.records if r.exc_info], "a deleted source is not a crash"


def test_the_clean_up_after_an_import_leaves_a_newer_import_s_staged_rows_alone(file_source):
    """after_import (queued at the swap) may run late, behind other tasks, while the next import of the same
    source is already staging its rows: it drops only the generations older than the one served."""
    source = import_now(file_source("iptv-org-base.guide.xml"))
    source = import_now(source)  # generation 2 served; generation 1 waits for after_import
    assert source.generation == 2
    assert EPGChannel.objects.filter(source=source, generation=1).exists()
    staging = EPGChannel.objects.create(source=source, generation=3, tvg_id="staged.example")  # the next import
    Programme.objects.create(channel=staging, start=datetime(2030, 1, 1, tzinfo=UTC),
                             stop=datetime(2030, 1, 1, 1, tzinfo=UTC), title="Staged")
    services.after_import(source.pk)
    assert not EPGChannel.objects.filter(source=source, generation=1).exists()
    assert EPGChannel.objects.filter(source=source, generation=2).count() == 4
    assert Programme.objects.filter(channel=staging).count() == 1


def test_a_download_shows_its_progress_and_stops_when_the_source_is_deleted(fake_server, monkeypatch):
    srv = fake_server()
    body = b"<tv>" + b"".join(b'<channel id="c%d"><display-name>C</display-name></channel>' % i
                              for i in range(60000)) + b"</tv>"  # about 3.5 MB: several chunks
    srv.route("GET", "/guide.xml")(lambda call: (200, body, {"Content-Type": "application/xml"}))
    source = EPGSource.objects.create(name="u", url=f"{srv.url}/guide.xml", refresh_interval=0)
    monkeypatch.setattr(services, "DOWNLOAD_CHECK_BYTES", 1)
    seen = []
    original = services._Progress.__call__

    def progress(self, status, percent, message, force=False):
        seen.append(message)
        if " MB" in message and EPGSource.objects.filter(pk=source.pk).exists():
            EPGSource.objects.get(pk=source.pk).delete()  # deleted while its guide downloads
        return original(self, status, percent, message, force)

    monkeypatch.setattr(services._Progress, "__call__", progress)
    token = "downloading"
    assert services.jobs.claim(EPGSource, source.pk, running=EPGSource.RUNNING, to="fetching", run_token=token)
    assert services.run_import(source.pk, token) == "error"
    downloading = [m for m in seen if " MB" in m]
    assert downloading and downloading[0].startswith(f"Downloading {srv.url}/guide.xml: ")
    assert "Parsing the guide." not in seen  # it stopped in the download, not after it
    assert EPGChannel.objects.count() == 0


def test_the_import_task_retries_a_temporary_failure_after_the_job_kits_backoff(db, settings, monkeypatch):
    settings.JOB_RETRY_BACKOFF, settings.JOB_RETRY_MAX_DELAY, settings.JOB_MAX_RETRIES = 3, 600, 4
    calls = []

    def run_import(source_id, token, *, may_retry):
        calls.append(may_retry)
        raise jobs.RetryLater("HTTP 503")

    class Retried(Exception):
        pass

    def retry(**kw):
        calls.append(kw)
        return Retried()

    monkeypatch.setattr(services, "run_import", run_import)
    monkeypatch.setattr(tasks.import_source, "retry", retry)
    tasks.import_source.push_request(retries=2)
    try:
        with pytest.raises(Retried):
            tasks.import_source.run(1, "t")
    finally:
        tasks.import_source.pop_request()
    assert calls[0] is True
    assert calls[1]["countdown"] == 12 and calls[1]["max_retries"] == 4
