"""A provider refresh against the fake Xtream panel over real HTTP (in this process; the worker e2e is in
test_api_refresh.py)."""
import logging

import pytest

from channels import services
from channels.models import Channel, Provider
from tests.channels.conftest import refresh_now

pytestmark = pytest.mark.django_db


def catalogue(provider):
    return dict(Channel.objects.filter(provider=provider).values_list("key", "id"))


def test_a_first_refresh_loads_the_whole_playlist(panel, make_provider):
    provider = refresh_now(make_provider(panel))
    assert provider.status == "success", provider.last_message
    expected = len(panel.live) + len(panel.vod) + len(panel.series)
    assert provider.channel_count == expected == Channel.objects.filter(provider=provider).count()
    assert provider.progress == 100 and provider.refreshed_at is not None
    assert provider.tvg_url == "http://guide.example/epg.xml"
    assert provider.last_message.startswith(f"{expected} channels ({expected} new, 0 changed, 0 removed)")
    cats = dict(Channel.objects.filter(provider=provider).values_list("key", "category"))
    assert cats["xt:live:1000"] == "tv" and cats["xt:movie:5000"] == "movies" and cats["xt:series:9000"] == "series"
    bbc = Channel.objects.get(provider=provider, key="xt:live:1000")
    assert (bbc.name, bbc.tvg_id, bbc.group_title, bbc.stream_type, bbc.stream_id) == (
        "BBC One Ⓖ", "BBCOne.uk", "UK", "live", 1000)
    assert bbc.stream_url == f"{panel.url}/alice/secret-pass/1000"


def test_player_api_fills_in_missing_groups_and_archive_days_whatever_the_types(panel, make_provider):
    provider = refresh_now(make_provider(panel))
    japan = [s for s in panel.live if s["category_id"] == 3]
    first = Channel.objects.get(provider=provider, stream_id=japan[0]["stream_id"])
    assert first.group_title == "日本 Live"  # category_id given as "3" or 3
    archived = [s for i, s in enumerate(panel.live) if i % 5 == 0]
    ch = Channel.objects.get(provider=provider, stream_id=archived[1]["stream_id"])
    assert ch.catchup_days == 7  # tv_archive "1", tv_archive_duration "7"
    other = Channel.objects.get(provider=provider, stream_id=panel.live[1]["stream_id"])
    assert other.catchup_days is None  # tv_archive 0, duration "N/A"


@pytest.mark.parametrize("mode", ["html", "blocked", "empty", "malformed"])
def test_a_broken_player_api_answer_changes_nothing_and_is_logged(panel, make_provider, caplog, mode):
    panel.modes["get_live_streams"] = mode
    panel.modes["get_live_categories"] = mode
    with caplog.at_level(logging.WARNING, logger="channels.clients"):
        provider = refresh_now(make_provider(panel))
    assert provider.status == "success"
    assert provider.channel_count == len(panel.live) + len(panel.vod) + len(panel.series)
    japan = [s for s in panel.live if s["category_id"] == 3]
    assert Channel.objects.get(provider=provider, stream_id=japan[0]["stream_id"]).group_title == ""
    assert "player_api.php not used for 2 lists" in provider.last_message
    assert any("get_live_streams" in r.getMessage() for r in caplog.records)
    assert "secret-pass" not in caplog.text


def test_a_repeat_refresh_of_an_unchanged_playlist_keeps_every_id_and_writes_nothing(panel, make_provider):
    provider = refresh_now(make_provider(panel))
    before = catalogue(provider)
    provider = refresh_now(provider)
    assert catalogue(provider) == before
    assert "(0 new, 0 changed, 0 removed)" in provider.last_message


def test_a_password_change_keeps_channel_ids(panel, make_provider):
    provider = refresh_now(make_provider(panel))
    before = catalogue(provider)
    panel.set_password("alice", "brand-new-pass")
    service = provider.service
    service.api_password = "brand-new-pass"
    service.save()
    provider = refresh_now(provider)
    assert provider.status == "success"
    assert catalogue(provider) == before
    ch = Channel.objects.get(provider=provider, key="xt:live:1000")
    assert ch.stream_url.endswith("/alice/brand-new-pass/1000")


def test_entries_gone_from_the_provider_leave_with_the_swap(panel, make_provider):
    provider = refresh_now(make_provider(panel))
    panel.vod = panel.vod[:10]
    provider = refresh_now(provider)
    assert Channel.objects.filter(provider=provider, category="movies").count() == 10
    assert "20 removed" in provider.last_message


def test_a_connection_cut_mid_download_keeps_the_old_catalogue_and_says_why(panel, make_provider):
    provider = refresh_now(make_provider(panel))
    before = catalogue(provider)
    panel.modes["get.php"] = "cut"
    provider = refresh_now(provider)
    assert provider.status == "error"
    assert "the previous catalogue is kept" in provider.last_message
    assert "connection was cut" in provider.last_message
    assert "secret-pass" not in provider.last_message
    assert catalogue(provider) == before and provider.channel_count == len(before)


@pytest.mark.parametrize("mode, reason", [("html", "HTML"), ("empty", "no entries")])
def test_a_broken_playlist_keeps_the_old_catalogue(panel, make_provider, mode, reason):
    provider = refresh_now(make_provider(panel))
    before = catalogue(provider)
    panel.modes["get.php"] = mode
    provider = refresh_now(provider)
    assert provider.status == "error"
    assert reason in provider.last_message and provider.last_error == provider.last_message
    assert catalogue(provider) == before


def test_wrong_credentials_are_an_error_on_the_row(panel, make_provider):
    provider = refresh_now(make_provider(panel, password="wrong-password"))
    assert provider.status == "error"
    assert "refused the username or password" in provider.last_message
    assert "wrong-password" not in provider.last_message


def test_malformed_lines_are_skipped(panel, make_provider):
    panel.extra_lines = "garbage line\r\n#EXTINF:-1 tvg-id=\"x\r\n#EXTINF:broken\r\nnot a url\r\n"
    provider = refresh_now(make_provider(panel))
    assert provider.status == "success"
    assert provider.channel_count == len(panel.live) + len(panel.vod) + len(panel.series)


def test_include_and_exclude_group_patterns(panel, make_provider):
    provider = refresh_now(make_provider(panel, include_groups="uk\nvod*", exclude_groups="VOD | Films"))
    groups = set(Channel.objects.filter(provider=provider).values_list("group_title", flat=True))
    assert groups == {"UK"}


def test_a_second_claim_while_one_runs_is_refused(panel, make_provider):
    provider = make_provider(panel)
    assert services.claim_refresh(provider.pk) is not None
    assert services.claim_refresh(provider.pk) is None


def test_a_temporary_failure_keeps_the_claim_for_a_retry(panel, make_provider):
    from homelab import jobs

    provider = make_provider(panel)
    panel.modes["get.php"] = "503"
    token = services.claim_refresh(provider.pk)
    with pytest.raises(jobs.RetryLater):
        services.run_refresh(provider.pk, token, may_retry=True)
    provider.refresh_from_db()
    assert provider.status == "fetching" and "retrying, the previous catalogue is kept" in provider.last_message
    panel.modes["get.php"] = "ok"
    assert services.run_refresh(provider.pk, token, may_retry=True) == "success"


def test_a_stale_provider_is_listed_for_the_beat(panel, make_provider, clock):
    provider = refresh_now(make_provider(panel, ttl_seconds=600))
    assert provider.pk not in services.stale_providers()
    clock.travel(601)
    assert provider.pk in services.stale_providers()
    assert Provider.objects.get(pk=provider.pk).is_stale


def test_progress_is_published_on_the_channels_event_channel(panel, make_provider):
    import json

    from homelab import events

    pubsub = events.redis_client().pubsub()
    pubsub.subscribe(events.CHANNEL_PREFIX + "channels")
    try:
        provider = refresh_now(make_provider(panel))
        seen = []
        while True:
            message = pubsub.get_message(timeout=1)
            if message is None:
                break
            if message["type"] == "message":
                seen.append(json.loads(message["data"]))
    finally:
        pubsub.close()
    assert {m["event"] for m in seen} == {"channels_refresh"}
    statuses = [m["data"]["status"] for m in seen if m["data"]["provider"] == provider.pk]
    assert statuses[0] == "fetching" and "parsing" in statuses and statuses[-1] == "success"
    assert seen[-1]["data"]["progress"] == 100
    assert "secret-pass" not in json.dumps(seen)


def test_a_claim_waiting_for_its_retry_is_not_swept_but_a_lost_one_is(panel, make_provider, clock):
    provider = make_provider(panel)
    token = services.claim_refresh(provider.pk)
    services.retry_scheduled(provider.pk, token, 600)
    clock.travel(300)
    assert services.sweep_stale() == 0
    clock.travel(600)
    assert services.sweep_stale() == 1
    provider.refresh_from_db()
    assert provider.status == "error" and "no heartbeat" in provider.last_message
