"""GET /iptv/channels, /stats, /groups, /status, /health: FastAPI's contract with our credentials."""
import pytest
from django.test import override_settings

from channels.models import Channel
from epg.models import EPGChannel, EPGSource, Programme
from tests.channels.conftest import refresh_now

pytestmark = pytest.mark.django_db

ITEM_KEYS = {"id", "name", "group", "category", "logo", "tvg_id", "tvg_name", "stream_url", "stream_type", "provider",
             "catchup_days", "epg_channel_id", "epg_match", "now"}


@pytest.fixture
def loaded(panel, make_provider):
    return refresh_now(make_provider(panel, is_default=True))


def get(client, url, **params):
    return client.get(url, params)


def test_a_page_has_the_exact_keys(admin_client_jwt, loaded):
    r = get(admin_client_jwt, "/iptv/channels", page=1, page_size=10)
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"items", "page", "page_size", "total", "pages"}
    assert (body["page"], body["page_size"], body["total"]) == (1, 10, loaded.channel_count)
    assert body["pages"] == -(-loaded.channel_count // 10)
    assert len(body["items"]) == 10
    assert all(set(item) == ITEM_KEYS for item in body["items"])
    first = body["items"][0]
    assert first["name"] == "BBC One Ⓖ" and first["provider"] == "panel" and first["category"] == "tv"


def test_a_page_past_the_end_is_empty(admin_client_jwt, loaded):
    body = get(admin_client_jwt, "/iptv/channels", page=10**30, page_size=500).json()
    assert body["items"] == [] and body["total"] == loaded.channel_count


@pytest.mark.parametrize("params, errors", [
    ({}, [(["query", "page"], "Field required", "missing"), (["query", "page_size"], "Field required", "missing")]),
    ({"page": "1"}, [(["query", "page_size"], "Field required", "missing")]),
    ({"page": "x", "page_size": "10"},
     [(["query", "page"], "Input should be a valid integer, unable to parse string as an integer", "int_parsing")]),
    ({"page": "0", "page_size": "10"},
     [(["query", "page"], "Input should be greater than or equal to 1", "greater_than_equal")]),
    ({"page": "1", "page_size": "501"},
     [(["query", "page_size"], "Input should be less than or equal to 500", "less_than_equal")]),
    ({"page": "1", "page_size": "5", "category": "films"},
     [(["query", "category"], "Input should be 'tv', 'movies', 'series' or 'other'", "enum")]),
    ({"page": "1", "page_size": "5", "epg": "yes"}, [(["query", "epg"], "Input should be 'missing'", "enum")]),
])
def test_invalid_queries_are_422_in_fastapis_shape(admin_client_jwt, loaded, params, errors):
    r = admin_client_jwt.get("/iptv/channels", params)
    assert r.status_code == 422
    assert r.json() == {"detail": [{"loc": loc, "msg": msg, "type": t} for loc, msg, t in errors]}


def test_an_unknown_provider_filter_is_422(admin_client_jwt, loaded):
    r = get(admin_client_jwt, "/iptv/channels", page=1, page_size=5, provider="nope")
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "provider"]


@pytest.mark.parametrize("term", ["bbc one", "BBC ONE", "BBCONE.UK", "bbcone.uk"])
def test_search_is_case_insensitive_over_name_and_tvg_id(admin_client_jwt, loaded, term):
    body = get(admin_client_jwt, "/iptv/channels", page=1, page_size=50, search=term).json()
    assert [i["name"] for i in body["items"]] == ["BBC One Ⓖ"]


def test_search_is_accent_insensitive_in_greek_and_finds_japanese(admin_client_jwt, panel, make_provider):
    panel.live[0]["name"] = "Ελληνική Τηλεόραση"
    refresh_now(make_provider(panel))
    for term in ("ελληνικη", "ΕΛΛΗΝΙΚΉ", "τηλεοραση"):
        body = get(admin_client_jwt, "/iptv/channels", page=1, page_size=5, search=term).json()
        assert [i["name"] for i in body["items"]] == ["Ελληνική Τηλεόραση"], term
    body = get(admin_client_jwt, "/iptv/channels", page=1, page_size=5, search="テレビ朝日").json()
    assert [i["name"] for i in body["items"]] == ["テレビ朝日"]
    body = get(admin_client_jwt, "/iptv/channels", page=1, page_size=5, search="ＮＨＫ総合").json()  # full width
    assert body["items"][0]["name"].startswith("NHK総合")


def test_search_by_group_and_wildcards_are_literal(admin_client_jwt, loaded):
    body = get(admin_client_jwt, "/iptv/channels", page=1, page_size=500, search="vod | films").json()
    assert body["total"] == 30
    assert get(admin_client_jwt, "/iptv/channels", page=1, page_size=5, search="%").json()["total"] == 0


def test_category_group_and_provider_filters(admin_client_jwt, loaded):
    assert get(admin_client_jwt, "/iptv/channels", page=1, page_size=5, category="movies").json()["total"] == 30
    assert get(admin_client_jwt, "/iptv/channels", page=1, page_size=5, category="series").json()["total"] == 20
    body = get(admin_client_jwt, "/iptv/channels", page=1, page_size=500, group="UK").json()
    assert body["total"] == 55 and {i["group"] for i in body["items"]} == {"UK"}
    assert get(admin_client_jwt, "/iptv/channels", page=1, page_size=5, provider=str(loaded.pk)).json()["total"] == \
        loaded.channel_count
    assert get(admin_client_jwt, "/iptv/channels", page=1, page_size=5, provider="panel").json()["total"] == \
        loaded.channel_count


def test_disabled_providers_are_not_served(admin_client_jwt, loaded):
    loaded.enabled = False
    loaded.save()
    assert get(admin_client_jwt, "/iptv/channels", page=1, page_size=5).json()["total"] == 0


def _guide():
    from django.utils import timezone

    source = EPGSource.objects.create(name="guide", source_type="file", file_path="x.xml", generation=1)
    bbc = EPGChannel.objects.create(source=source, generation=1, tvg_id="BBCOne.uk", name="BBC One")
    EPGChannel.objects.create(source=source, generation=1, tvg_id="itv.guide", name="ITV 1 HD")
    now = timezone.now()
    Programme.objects.create(channel=bbc, start=now - timezone.timedelta(minutes=10),
                             stop=now + timezone.timedelta(minutes=20), title="The News")


def test_channels_are_matched_to_the_guide_by_tvg_id_then_name(admin_client_jwt, panel, make_provider):
    _guide()
    refresh_now(make_provider(panel))
    items = {i["name"]: i for i in get(admin_client_jwt, "/iptv/channels", page=1, page_size=500,
                                       group="UK").json()["items"]}
    bbc, itv = items["BBC One Ⓖ"], items["ITV 1"]
    assert (bbc["epg_channel_id"], bbc["epg_match"]) == ("BBCOne.uk", "tvg_id")
    assert bbc["now"]["title"] == "The News" and set(bbc["now"]) == {"title", "start", "end"}
    assert (itv["epg_channel_id"], itv["epg_match"], itv["now"]) == ("itv.guide", "name", None)
    missing = get(admin_client_jwt, "/iptv/channels", page=1, page_size=500, epg="missing", group="UK").json()
    assert missing["total"] == 53 and "ITV 1" not in [i["name"] for i in missing["items"]]


def test_stats_and_groups(admin_client_jwt, loaded):
    stats = admin_client_jwt.get("/iptv/stats").json()
    assert stats == {"total": loaded.channel_count,
                     "categories": {"tv": len([c for c in Channel.objects.all() if c.category == "tv"]),
                                    "movies": 30, "series": 20, "other": 0}}
    groups = admin_client_jwt.get("/iptv/groups").json()
    assert set(groups) == {"groups", "total"}
    by_name = {(g["name"], g["category"]): g["count"] for g in groups["groups"]}
    assert by_name[("UK", "tv")] == 55 and by_name[("VOD | Films", "movies")] == 30
    assert by_name[("日本 Live", "tv")] == 43


def test_status_of_the_default_provider(admin_client_jwt, loaded, panel):
    body = admin_client_jwt.get("/iptv/status").json()
    assert set(body) == {"refreshing", "progress", "last_refresh", "channel_count", "stale", "last_error", "host",
                         "status", "message"}
    assert body["refreshing"] is False and body["stale"] is False and body["channel_count"] == loaded.channel_count
    assert body["host"] == panel.url and body["last_error"] is None
    assert "secret-pass" not in str(body)


def test_status_without_a_provider(admin_client_jwt):
    body = admin_client_jwt.get("/iptv/status").json()
    assert body["channel_count"] == 0 and body["stale"] is True and body["host"] is None


def test_status_says_stale_after_the_ttl(admin_client_jwt, loaded, clock):
    clock.travel(loaded.ttl + 1)
    assert admin_client_jwt.get("/iptv/status").json()["stale"] is True


def test_health_is_open(api_client):
    r = api_client.get("/iptv/health")
    assert r.status_code == 200 and r.json() == {"status": "ok"}


@pytest.mark.parametrize("url", ["/iptv/channels?page=1&page_size=1", "/iptv/status", "/iptv/stats", "/iptv/groups"])
def test_reads_need_a_credential(api_client, url):
    r = api_client.get(url)
    assert r.status_code == 401 and set(r.json()) == {"detail"}


@override_settings(IPTV_OPEN_READS=True)
def test_iptv_open_reads_opens_the_gets_but_not_the_writes(api_client, loaded):
    assert api_client.get("/iptv/channels?page=1&page_size=1").status_code == 200
    assert api_client.get("/iptv/status").status_code == 200
    assert api_client.post("/iptv/refresh").status_code == 401


def test_an_api_key_and_the_web_token_work(api_client, admin_user, loaded):
    from homelab.models import APIKey

    _, raw = APIKey.generate(name="fe", user=admin_user)
    assert api_client.get("/iptv/stats", HTTP_X_API_KEY=raw).status_code == 200
    assert api_client.get("/iptv/stats", HTTP_X_API_KEY="wrong").status_code == 401


def test_a_search_total_follows_a_refresh(admin_client_jwt, loaded, panel):
    assert get(admin_client_jwt, "/iptv/channels", page=1, page_size=5, search="film number").json()["total"] == 30
    panel.vod = panel.vod[:12]
    refresh_now(loaded)
    assert get(admin_client_jwt, "/iptv/channels", page=1, page_size=5, search="film number").json()["total"] == 12


@pytest.mark.parametrize("name", ["search", "group", "provider"])
def test_a_nul_character_in_a_text_filter_is_422_not_a_server_error(admin_client_jwt, loaded, name):
    r = get(admin_client_jwt, "/iptv/channels", page=1, page_size=5, **{name: "a\x00b"})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["query", name]


def test_only_ascii_digits_are_integers(admin_client_jwt, loaded):
    r = get(admin_client_jwt, "/iptv/channels", page="\uff11", page_size=5)  # a full-width "1"
    assert r.status_code == 422 and r.json()["detail"][0]["type"] == "int_parsing"


def _searches(queries) -> list[str]:
    return [q["sql"] for q in queries if "LIKE" in q["sql"].upper()]


def test_the_pages_of_a_search_read_its_matches_once(admin_client_jwt, loaded):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as first:
        body = get(admin_client_jwt, "/iptv/channels", page=1, page_size=7, search="film number").json()
    assert len(_searches(first.captured_queries)) == 1  # the matches, in order, and their total: one query
    names = [i["name"] for i in body["items"]]
    pages = [names]
    for page in range(2, body["pages"] + 2):
        with CaptureQueriesContext(connection) as later:
            r = get(admin_client_jwt, "/iptv/channels", page=page, page_size=7, search="film number")
        assert r.status_code == 200 and _searches(later.captured_queries) == []
        assert r.json()["total"] == 30
        pages.append([i["name"] for i in r.json()["items"]])
    assert pages[-1] == []
    everything = [n for p in pages for n in p]
    assert len(everything) == len(set(everything)) == 30
    # the same rows, in the same order, as the catalogue read without the kept matches
    expected = list(Channel.objects.filter(search__contains="film number").order_by("provider_id", "position")
                    .values_list("name", flat=True))
    assert everything == expected


def test_a_channel_gone_under_kept_matches_is_read_again(admin_client_jwt, loaded):
    first = get(admin_client_jwt, "/iptv/channels", page=1, page_size=5, search="film number").json()["items"]
    Channel.objects.filter(id=first[1]["id"]).delete()  # not through a refresh: the kept ids are now one too many
    again = get(admin_client_jwt, "/iptv/channels", page=1, page_size=5, search="film number").json()["items"]
    assert [i["id"] for i in again] == [first[0]["id"], *[i["id"] for i in first[2:]], again[-1]["id"]]
    assert first[1]["id"] not in {i["id"] for i in again} and len(again) == 5


def test_pages_past_the_kept_matches_of_a_common_term_are_read_in_sql(admin_client_jwt, loaded, monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from channels import selectors

    monkeypatch.setattr(selectors, "MATCHES_KEPT", 10)
    expected = list(Channel.objects.filter(search__contains="film number").order_by("provider_id", "position")
                    .values_list("name", flat=True))
    # the first page finds the kept ids (pages 1-2) and counts; pages 3-6 are read in SQL; page 7 is past the end
    for page, searches in ((1, 2), (2, 0), (3, 1), (6, 1), (7, 0)):
        with CaptureQueriesContext(connection) as queries:
            body = get(admin_client_jwt, "/iptv/channels", page=page, page_size=5, search="film number").json()
        assert body["total"] == 30
        assert [i["name"] for i in body["items"]] == expected[(page - 1) * 5:page * 5], page
        assert len(_searches(queries.captured_queries)) == searches, page


def test_kept_matches_stay_within_their_budget(admin_client_jwt, loaded, monkeypatch):
    from channels import selectors

    monkeypatch.setattr(selectors, "_LOCAL_BUDGET_BYTES", 64 * 3 + 8 * 40)
    for term in ("film", "number", "film number", "bbc", "uk", "news"):
        assert get(admin_client_jwt, "/iptv/channels", page=1, page_size=5, search=term).status_code == 200
        assert 0 < selectors._local_bytes <= selectors._LOCAL_BUDGET_BYTES
    assert sum(selectors._size(v) for v in selectors._LOCAL.values()) == selectors._local_bytes


def test_a_search_of_symbols_only_matches_the_names_that_have_them(admin_client_jwt, loaded):
    marked = sorted(Channel.objects.filter(name__contains="Ⓖ").values_list("id", flat=True))
    assert 0 < len(marked) < loaded.channel_count
    body = get(admin_client_jwt, "/iptv/channels", page=1, page_size=500, search="Ⓖ").json()
    assert body["total"] == len(marked) and sorted(i["id"] for i in body["items"]) == marked
    assert get(admin_client_jwt, "/iptv/channels", page=1, page_size=5, search="   ").json()["total"] == \
        loaded.channel_count  # blank: no search at all


def test_a_provider_id_is_ascii_digits(admin_client_jwt, loaded):
    r = get(admin_client_jwt, "/iptv/channels", page=1, page_size=5, provider=str(loaded.pk).translate(
        {ord(d): 0xFF10 + int(d) for d in "0123456789"}))  # the same number in full-width digits
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "provider"]


def test_kept_matches_outlive_a_refresh_that_changed_nothing(admin_client_jwt, loaded):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    first = get(admin_client_jwt, "/iptv/channels", page=1, page_size=5, search="film number").json()
    generation = loaded.generation
    refreshed = refresh_now(loaded)
    assert "(0 new, 0 changed, 0 removed)" in refreshed.last_message and refreshed.generation == generation
    with CaptureQueriesContext(connection) as queries:
        again = get(admin_client_jwt, "/iptv/channels", page=1, page_size=5, search="film number").json()
    assert again == first and _searches(queries.captured_queries) == []


@pytest.mark.django_db(transaction=True)  # autocommit, as the web server runs: the task is queued at once
def test_a_refresh_the_broker_refuses_is_503_not_scheduled(admin_client_jwt, loaded, monkeypatch):
    from channels import tasks

    def refuse(*args, **kwargs):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:1. Connection refused.")

    monkeypatch.setattr(tasks.refresh_provider, "delay", refuse)
    r = admin_client_jwt.post("/iptv/refresh")
    assert r.status_code == 503
    assert r.json() == {"detail": "Could not queue the refresh (task broker unavailable: ConnectionError)."}
    loaded.refresh_from_db()
    assert loaded.status == "error" and not loaded.is_running  # nothing left claimed: a later try can start
