"""Review findings (second pair of eyes): each test fails on the commit it was written against.

Run: pytest -c tests/pytest.ini --rootdir . tests/channels/test_review_findings.py (PostgreSQL + Redis or the
embedded defaults)."""
import json
from io import StringIO

import pytest
from django.core.management import call_command

from channels.models import Channel
from tests.channels.conftest import refresh_now

pytestmark = pytest.mark.django_db


@pytest.fixture
def loaded(panel, make_provider):
    return refresh_now(make_provider(panel, is_default=True))


def page(client, **params):
    r = client.get("/iptv/channels", params)
    assert r.status_code == 200, r.content
    return r.json()


# --- 1. ?provider= with a Unicode digit that int() refuses: 500 instead of 422 ----------------------------------

@pytest.mark.parametrize("url", ["/iptv/channels?page=1&page_size=5", "/iptv/stats?", "/iptv/groups?",
                                 "/iptv/status?"])
@pytest.mark.parametrize("value", ["²", "①"])
def test_a_provider_filter_that_is_a_unicode_digit_is_422_not_500(admin_client_jwt, loaded, url, value):
    # "²".isdigit() is True but int("²") raises ValueError (selectors.resolve_provider)
    r = admin_client_jwt.get(f"{url}&provider={value}")
    assert r.status_code == 422, (r.status_code, r.content[:200])
    assert r.json()["detail"][0]["loc"] == ["query", "provider"]


# --- 2. channels deleted in the admin: the kept total (and the unfiltered total) do not follow ----------------

def test_search_total_follows_channels_deleted_in_the_admin(admin_client_jwt, client, admin_user, loaded):
    before = page(admin_client_jwt, page=1, page_size=500, search="film number")
    assert before["total"] == 30  # the fake panel's 30 generated VOD entries
    victims = [i["id"] for i in before["items"][:10]]
    client.force_login(admin_user)
    r = client.post("/admin/channels/channel/", {"action": "delete_selected", "_selected_action": victims,
                                                 "post": "yes"})
    assert r.status_code == 302 and not Channel.objects.filter(id__in=victims).exists()

    after = page(admin_client_jwt, page=1, page_size=500, search="film number")
    assert len(after["items"]) == 20
    assert after["total"] == 20, "the search's total is the one kept before the delete"
    unfiltered = page(admin_client_jwt, page=1, page_size=1)
    assert unfiltered["total"] == Channel.objects.count(), "the unfiltered total is the provider's channel_count"


# --- 3. a cache import keeping the exported timestamp and count: kept ids of the old catalogue served -----------

def test_a_cache_import_with_the_exported_timestamp_is_searched_anew(admin_client_jwt, tmp_path, loaded):
    assert [i["name"] for i in page(admin_client_jwt, page=1, page_size=50, search="bbc one")["items"]] == \
        ["BBC One Ⓖ"]
    path = tmp_path / "channels.json"
    call_command("iptv_cache", "export", str(path), stderr=StringIO())
    data = json.loads(path.read_text())
    for item in data["channels"]:
        if item["name"] == "BBC One Ⓖ":
            item["name"], item["tvg_name"], item["tvg_id"] = "Renamed", "Renamed", "renamed.uk"
    path.write_text(json.dumps(data))  # same timestamp, same channel_count: an edited cache file
    call_command("iptv_cache", "import", str(path), stdout=StringIO(), stderr=StringIO())
    assert Channel.objects.filter(name="Renamed").exists() and not Channel.objects.filter(name="BBC One Ⓖ").exists()

    body = page(admin_client_jwt, page=1, page_size=50, search="bbc one")
    assert [i["name"] for i in body["items"]] == [], "an item that does not match the search is served"
    assert body["total"] == 0


# --- 4. a search made only of symbols (emoji, ★, U+FFFD) matches the whole catalogue -------------------------

@pytest.mark.parametrize("term", ["😀", "★", "⚽", "\ufffd"])
def test_a_search_of_symbols_only_does_not_list_the_whole_catalogue(admin_client_jwt, loaded, term):
    body = page(admin_client_jwt, page=1, page_size=5, search=term)
    assert body["total"] < loaded.channel_count, f"search={term!r} answered every channel ({body['total']})"


# --- 5. a provider claim lost with its worker is not freed by serve's start nor by the 30 s job sweep ---------

def test_a_lost_refresh_claim_is_freed_by_the_job_sweep_and_at_serve_start(admin_client_jwt, loaded, monkeypatch):
    from datetime import timedelta

    from channels import tasks
    from channels.models import Provider
    from homelab import clock, jobs

    monkeypatch.setattr(tasks.refresh_provider, "delay", lambda *a, **k: None)  # no broker needed
    # what a stack killed (OOM, docker restart) in the middle of a parse leaves: a claim whose heartbeat stopped
    Provider.objects.filter(pk=loaded.pk).update(status=Provider.Status.PARSING, run_token="lost", progress=30,
                                                 heartbeat_at=clock.now() - timedelta(hours=1))
    jobs.free_dead_claims()  # manage.py serve, at start
    jobs.sweep_all()  # homelab.sweep_jobs, every 30 s
    row = Provider.objects.get(pk=loaded.pk)
    assert row.status not in Provider.RUNNING, "the claim stays until the 15-minute channels beat row"
    r = admin_client_jwt.post("/iptv/refresh")
    assert r.status_code == 202 and r.json()["started"] is True, r.json()
