"""GET /output/epg.xml: merged XMLTV of the active sources, ETag / Last-Modified, conditional GETs."""
import io

import pytest
from lxml import etree

from epg import parsers, services
from epg.signals import output_regenerated

from .conftest import import_now

pytestmark = pytest.mark.django_db


def parse_output(content: bytes):
    return list(parsers.iter_guide(io.BytesIO(content)))


def read(client):
    r = client.get("/output/epg.xml")
    assert r.status_code == 200
    return r, b"".join(r.streaming_content)


def test_it_merges_active_sources_by_priority(client, file_source):
    low = import_now(file_source("iptv-org-base.guide.xml", priority=1))
    high = import_now(file_source("iptv-org-guide.xml.gz", priority=10))
    off = import_now(file_source("jellyfin-schedulesdirect.xml", priority=99))
    off.is_active = False
    off.save()
    services.regenerate_output(high.pk)
    r, body = read(client)
    assert r["Content-Type"] == "application/xml; charset=utf-8"
    root = etree.fromstring(body)
    assert root.tag == "tv"
    items = parse_output(body)
    channels = {c.tvg_id: c for c in items if isinstance(c, parsers.Channel)}
    # Channel3.us is in both: taken from the higher-priority source; the inactive source is left out
    assert set(channels) == {"Channel1.us@HD", "Channel2.us", "140", "Channel3.us", "Channel1.us", "Channel4.us@HD"}
    programmes = [p for p in items if isinstance(p, parsers.Programme)]
    ch3 = [p.title for p in programmes if p.channel == "Channel3.us"]
    assert ch3 == ["Program1 (example2.com)"]
    assert len(programmes) == 6 - 2 + 3  # base's two Channel3.us programmes give way to the gz guide's three
    assert not any("schedulesdirect" in p.channel for p in programmes)
    # channels come before programmes, as the XMLTV DTD wants
    tags = [el.tag for el in root]
    assert tags == sorted(tags, key=lambda t: t != "channel")


def test_etag_last_modified_and_conditional_requests(client, file_source):
    source = import_now(file_source("iptv-org-base.guide.xml"))
    services.regenerate_output(source.pk)
    r, body = read(client)
    etag, modified = r["ETag"], r["Last-Modified"]
    assert etag.startswith('"') and modified.endswith("GMT")
    assert client.get("/output/epg.xml", HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert client.get("/output/epg.xml", HTTP_IF_MODIFIED_SINCE=modified).status_code == 304
    assert client.get("/output/epg.xml", HTTP_IF_NONE_MATCH='"other"').status_code == 200
    assert client.head("/output/epg.xml").status_code == 200
    assert client.post("/output/epg.xml").status_code == 405
    # a new import changes the file and its ETag
    source = import_now(source)
    services.regenerate_output(source.pk)
    r2, _ = read(client)
    assert r2["ETag"] != etag
    assert client.get("/output/epg.xml", HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_it_is_built_on_first_request_when_missing(client, file_source):
    import_now(file_source("iptv-org-base.guide.xml"))
    services.output_path().unlink(missing_ok=True)
    _, body = read(client)
    assert sum(isinstance(i, parsers.Programme) for i in parse_output(body)) == 6


def test_regeneration_is_atomic_and_signals_after_commit(file_source, django_capture_on_commit_callbacks):
    source = import_now(file_source("iptv-org-base.guide.xml"))
    received = []

    def listener(sender, **kwargs):
        received.append(kwargs)

    output_regenerated.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            path = services.regenerate_output(source.pk)
            assert received == []  # not before commit
    finally:
        output_regenerated.disconnect(listener)
    assert [{k: v for k, v in r.items() if k != "signal"} for r in received] == [
        {"filename": "epg.xml", "source_id": source.pk}]
    assert path.parent.name == "epg" and not list(path.parent.glob(".epg-*"))


def test_a_successful_import_queues_the_clean_up_and_regeneration(file_source, django_capture_on_commit_callbacks, monkeypatch):
    from epg import tasks

    queued = []
    monkeypatch.setattr(tasks.after_import, "delay", lambda *a: queued.append(a))
    def run_task(source):
        token = services.request_refresh(source)
        with django_capture_on_commit_callbacks(execute=True):
            return tasks.import_source.run(source.pk, token)

    source = file_source("iptv-org-base.guide.xml")
    assert run_task(source) == "success"
    assert queued == [(source.pk,)]
    bad = file_source("own-broken.xml")
    assert run_task(bad) == "error"
    assert queued == [(source.pk,)]  # a failed import leaves the output alone


def test_a_regeneration_that_read_the_guide_earlier_does_not_overwrite_a_newer_one(file_source, monkeypatch):
    """Two imports end together and their regenerations overlap (two workers): the one that read the database
    first must not finish last and put back a guide without the other import."""
    from epg import selectors

    import_now(file_source("iptv-org-base.guide.xml"))
    real = selectors.output_channels
    calls = []

    def output_channels():
        rows = real()
        calls.append(1)
        if len(calls) == 1:  # the first regeneration has read; meanwhile another import ends and regenerates
            import_now(file_source("jellyfin-schedulesdirect.xml"))
            services.regenerate_output(None)
        return rows

    monkeypatch.setattr(selectors, "output_channels", output_channels)
    services.regenerate_output(None)
    assert len(calls) == 2
    monkeypatch.setattr(selectors, "output_channels", real)
    written = services.output_path().read_bytes()
    ids = {i.tvg_id for i in parse_output(written) if isinstance(i, parsers.Channel)}
    assert "EPG123.10108.schedulesdirect.org" in ids, ids  # the second import is served


def test_writes_are_405_not_csrf_403(db):
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post("/output/epg.xml")
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
