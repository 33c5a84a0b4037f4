"""GET /api/epg/epgdata/ and GET /api/epg/grid/."""
from datetime import timedelta

import pytest
from django.utils import timezone as djtz

from epg.models import EPGChannel, Programme

from .conftest import import_now

pytestmark = pytest.mark.django_db

GRID_KEYS = {"id", "start_time", "end_time", "title", "sub_title", "description", "tvg_id", "season", "episode",
             "is_new", "is_live", "is_premiere", "is_finale"}


def guide_around_now(hours=(-3, -1, 0, 2, 23, 25), tvg_id="now.example", flags=""):
    """A guide with one-hour programmes starting at now + each offset (hours)."""
    base = djtz.now().replace(minute=0, second=0, microsecond=0)
    parts = [f'<channel id="{tvg_id}"><display-name>Now</display-name><icon src="http://logo/now.png"/></channel>']
    for h in hours:
        s = (base + timedelta(hours=h)).strftime("%Y%m%d%H%M%S +0000")
        e = (base + timedelta(hours=h + 1)).strftime("%Y%m%d%H%M%S +0000")
        parts.append(f'<programme start="{s}" stop="{e}" channel="{tvg_id}"><title>At {h}</title>'
                     f'<sub-title>Sub {h}</sub-title><desc>Desc {h}</desc>'
                     f'<episode-num system="xmltv_ns">12.19/75.</episode-num>{flags}</programme>')
    return ('<?xml version="1.0" encoding="UTF-8"?><tv>' + "".join(parts) + "</tv>").encode(), base


def test_epgdata_lists_served_channels_with_filters(admin_client_jwt, file_source):
    a = import_now(file_source("iptv-org-base.guide.xml"))
    b = import_now(file_source("iptv-org-multilang.guide.xml"))
    r = admin_client_jwt.get("/api/epg/epgdata/")
    assert r.status_code == 200
    rows = r.json()
    assert isinstance(rows, list) and len(rows) == 6
    assert all(set(row) == {"id", "tvg_id", "name", "icon_url", "epg_source"} for row in rows)
    row = next(x for x in rows if x["tvg_id"] == "Channel1.us@HD")
    assert row == {"id": row["id"], "tvg_id": "Channel1.us@HD", "name": "Channel 1",
                   "icon_url": "https://i.imgur.com/GPzH88J.png", "epg_source": a.pk}
    assert {x["epg_source"] for x in admin_client_jwt.get(f"/api/epg/epgdata/?epg_source={b.pk}").json()} == {b.pk}
    by_id = admin_client_jwt.get("/api/epg/epgdata/?tvg_id=Channel3.us").json()
    assert sorted(x["epg_source"] for x in by_id) == sorted([a.pk, b.pk])
    r = admin_client_jwt.get("/api/epg/epgdata/?epg_source=abc")
    assert r.status_code == 400 and r.json() == {"epg_source": ["A valid integer is required."]}


def test_epgdata_hides_staged_generations(admin_client_jwt, file_source):
    a = import_now(file_source("iptv-org-base.guide.xml"))
    EPGChannel.objects.create(source=a, generation=a.generation + 1, tvg_id="staged.example", name="Staged")
    tvg_ids = {x["tvg_id"] for x in admin_client_jwt.get("/api/epg/epgdata/").json()}
    assert "staged.example" not in tvg_ids and len(tvg_ids) == 4


def test_epgdata_is_paginated_only_when_page_is_given(admin_client_jwt, file_source):
    import_now(file_source("iptv-org-base.guide.xml"))
    r = admin_client_jwt.get("/api/epg/epgdata/?page=1&page_size=3")
    body = r.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 4 and len(body["results"]) == 3 and body["previous"] is None
    assert "page=2" in body["next"]
    r = admin_client_jwt.get("/api/epg/epgdata/?page=2&page_size=3")
    assert len(r.json()["results"]) == 1 and r.json()["next"] is None
    r = admin_client_jwt.get("/api/epg/epgdata/?page=9&page_size=3")
    assert r.status_code == 404 and r.json() == {"detail": "Invalid page."}


def test_grid_defaults_to_now_minus_1h_to_now_plus_24h(admin_client_jwt, file_source):
    xml, base = guide_around_now(flags="<new/><premiere/>")
    source = import_now(file_source("now.xml", xml))
    r = admin_client_jwt.get("/api/epg/grid/")
    assert r.status_code == 200
    data = r.json()["data"]
    # ends after now - 1 h and starts before now + 24 h: -1, 0, 2, 23 (not -3, not 25)
    assert [p["title"] for p in data] == ["At -1", "At 0", "At 2", "At 23"]
    first = data[0]
    assert set(first) == GRID_KEYS
    start = base - timedelta(hours=1)
    assert first["start_time"] == start.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert first["end_time"] == base.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert (first["sub_title"], first["description"], first["tvg_id"]) == ("Sub -1", "Desc -1", "now.example")
    assert (first["season"], first["episode"]) == (13, 20)
    assert (first["is_new"], first["is_live"], first["is_premiere"], first["is_finale"]) == (True, False, True, False)
    assert Programme.objects.filter(pk=first["id"], channel__source=source).exists()


def test_grid_window_can_be_overridden(admin_client_jwt, file_source):
    xml, base = guide_around_now()
    import_now(file_source("now.xml", xml))
    start = (base + timedelta(hours=20)).isoformat()
    end = (base + timedelta(hours=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    r = admin_client_jwt.get("/api/epg/grid/", {"start": start, "end": end})
    assert [p["title"] for p in r.json()["data"]] == ["At 23", "At 25"]
    r = admin_client_jwt.get("/api/epg/grid/", {"start": "yesterday"})
    assert r.status_code == 400
    assert r.json() == {"start": ["Enter an ISO 8601 date and time, e.g. 2025-11-24T19:00:00Z."]}
    r = admin_client_jwt.get("/api/epg/grid/", {"start": end, "end": start})
    assert r.status_code == 400 and r.json() == {"end": ["The end must be after the start."]}


def test_grid_leaves_out_inactive_sources(admin_client_jwt, file_source):
    xml, _ = guide_around_now()
    source = import_now(file_source("now.xml", xml))
    source.is_active = False
    source.save()
    assert admin_client_jwt.get("/api/epg/grid/").json() == {"data": []}


def test_grid_needs_credentials(api_client, db):
    r = api_client.get("/api/epg/grid/")
    assert r.status_code == 401 and r.json() == {"detail": "Authentication credentials were not provided."}


def test_a_grid_window_given_by_one_end_is_25_hours_long(admin_client_jwt, file_source):
    """Only ``start`` (or only ``end``): the window keeps the default's length (25 h) from there, so a day in
    the future (or the past) can be asked for with one parameter."""
    xml, base = guide_around_now(hours=(30, 40, 60, 80))
    import_now(file_source("later.xml", xml))
    start = (base + timedelta(hours=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    r = admin_client_jwt.get("/api/epg/grid/", {"start": start})
    assert r.status_code == 200, r.content
    assert [p["title"] for p in r.json()["data"]] == ["At 30", "At 40"]
    end = (base + timedelta(hours=81)).strftime("%Y-%m-%dT%H:%M:%SZ")
    r = admin_client_jwt.get("/api/epg/grid/", {"end": end})
    assert r.status_code == 200, r.content
    assert [p["title"] for p in r.json()["data"]] == ["At 60", "At 80"]


@pytest.mark.parametrize("path", ["/api/epg/epgdata/", "/api/epg/grid/"])
def test_a_source_filter_past_int64_matches_nothing_and_odd_digits_are_400(admin_client_jwt, file_source, path):
    """Defect 7: 9223372036854775808 was a 500 on SQLite (OverflowError)."""
    import_now(file_source("iptv-org-base.guide.xml"))
    for value in ("9223372036854775808", "99999999999999999999999999"):
        r = admin_client_jwt.get(f"{path}?epg_source={value}")
        assert r.status_code == 200, r.content
        assert r.json() == ([] if path.endswith("epgdata/") else {"data": []})
    r = admin_client_jwt.get(f"{path}?epg_source=%C2%B2")  # "²": str.isdigit() says yes, int() says no
    assert r.status_code == 400 and r.json() == {"epg_source": ["A valid integer is required."]}


@pytest.mark.parametrize("path", ["/api/epg/epgdata/", "/api/epg/grid/"])
def test_a_tvg_id_filter_with_a_nul_character_is_a_400_not_a_500(admin_client_jwt, file_source, path):
    """PostgreSQL refuses NUL in a text parameter (DataError), which answered 500; SQLite matched nothing."""
    import_now(file_source("iptv-org-base.guide.xml"))
    r = admin_client_jwt.get(f"{path}?tvg_id=a%00b")
    assert r.status_code == 400, r.content
    assert r.json() == {"tvg_id": ["Null characters are not allowed."]}


def test_the_default_grid_window_follows_the_project_clock(admin_client_jwt, file_source, clock):
    xml, base = guide_around_now()
    import_now(file_source("now.xml", xml))
    clock.travel(3 * 3600)  # three hours later: -1 and 0 have ended, 25 starts within 24 h
    r = admin_client_jwt.get("/api/epg/grid/")
    assert [p["title"] for p in r.json()["data"]] == ["At 2", "At 23", "At 25"]


@pytest.mark.parametrize("query", [
    "end=3200-01-01T20:49:06.8-20:57",       # an offset PostgreSQL refuses
    "start=9999-12-31T23:00:00Z",            # a window past year 9999
    "end=0001-01-01T00:30:00Z",              # a window before year 1
    "start=0001-01-01T00:00:00%2B23:00",     # before year 1 once in UTC
])
def test_a_grid_window_out_of_range_is_a_400_not_a_500(admin_client_jwt, query):
    response = admin_client_jwt.get(f"/api/epg/grid/?{query}")
    assert response.status_code in (200, 400), response.content
    if response.status_code == 400:
        assert list(response.json()) in (["start"], ["end"])
