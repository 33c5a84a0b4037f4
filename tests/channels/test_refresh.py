"""A provider refresh against the fake Xtream panel over real HTTP (in this process; the worker e2e is in
test_api_refresh.py)."""
import logging
import random
import string

import pytest
from django.db.models import Count

from channels import catalogue as swap, services
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


def test_numbers_too_large_for_the_columns_are_dropped_not_fatal(panel, make_provider):
    # one hostile line (archive days past int4, a stream id past int8) must not fail the whole refresh
    panel.extra_lines = (
        '#EXTINF:-1 catchup-days="99999999999999999999999" group-title="Hostile",Huge days\r\n'
        "http://s.example/a1.m3u8\r\n"
        '#EXTINF:-1 catchup-days="3000000000" group-title="Hostile",Days past int4\r\n'
        "http://s.example/a2.m3u8\r\n"
        '#EXTINF:-1 tvg-rec="-5" group-title="Hostile",Negative days\r\n'
        "http://s.example/a3.m3u8\r\n"
        '#EXTINF:-1 group-title="Hostile",Huge stream id\r\n'
        "http://s.example/live/u/p/99999999999999999999999.ts\r\n")
    provider = refresh_now(make_provider(panel))
    assert provider.status == "success", provider.last_message
    hostile = dict(Channel.objects.filter(provider=provider, group_title="Hostile")
                   .values_list("name", "catchup_days"))
    assert hostile == {"Huge days": None, "Days past int4": None, "Negative days": None, "Huge stream id": None}
    huge = Channel.objects.get(provider=provider, name="Huge stream id")
    assert (huge.stream_type, huge.stream_id, huge.key.startswith("u:")) == ("live", None, True)


def test_a_group_title_too_long_for_the_group_index_is_cut_not_fatal(panel, make_provider):
    # PostgreSQL's btree index on the group refuses an entry over ~2,700 bytes (random text: no compression)
    rng = random.Random(7)
    huge = "".join(rng.choice(string.ascii_letters) for _ in range(10_000))
    panel.extra_lines = f'#EXTINF:-1 group-title="{huge}",Huge group\r\nhttp://s.example/hg.m3u8\r\n'
    provider = refresh_now(make_provider(panel))
    assert provider.status == "success", provider.last_message
    group = Channel.objects.get(provider=provider, name="Huge group").group_title
    assert huge.startswith(group) and 0 < len(group) <= swap.MAX_GROUP_LENGTH


def test_include_and_exclude_group_patterns(panel, make_provider):
    provider = refresh_now(make_provider(panel, include_groups="uk\nvod*", exclude_groups="VOD | Films"))
    groups = set(Channel.objects.filter(provider=provider).values_list("group_title", flat=True))
    assert groups == {"UK"}


def test_group_patterns_apply_to_the_group_player_api_fills_in(panel, make_provider):
    # the Japanese list has no group-title in the playlist: its group "日本 Live" comes from player_api.php
    provider = refresh_now(make_provider(panel, include_groups="日本*"))
    assert provider.status == "success", provider.last_message
    groups = dict(Channel.objects.filter(provider=provider).values_list("group_title").annotate(n=Count("id")))
    assert groups == {"日本 Live": 43}


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


@pytest.fixture
def reads(monkeypatch):
    """The entries a refresh reads (build_row calls), by name."""
    seen = []
    real = swap.build_row

    def build_row(provider_id, position, entry, *args):
        seen.append(entry.name)
        return real(provider_id, position, entry, *args)

    monkeypatch.setattr(swap, "build_row", build_row)
    return seen


def test_a_repeat_refresh_reads_only_the_entries_whose_lines_changed(panel, make_provider, reads):
    provider = refresh_now(make_provider(panel))
    total = provider.channel_count
    assert len(reads) == total
    before = {c.key: (c.id, c.name, c.position) for c in Channel.objects.filter(provider=provider)}
    reads.clear()
    provider = refresh_now(provider)
    assert reads == [] and "(0 new, 0 changed, 0 removed)" in provider.last_message
    panel.vod[3]["name"] = "Renamed Film"
    reads.clear()
    provider = refresh_now(provider)
    assert reads == ["Renamed Film"] and "(0 new, 1 changed, 0 removed)" in provider.last_message
    after = {c.key: (c.id, c.name, c.position) for c in Channel.objects.filter(provider=provider)}
    key = f"xt:movie:{panel.vod[3]['stream_id']}"
    assert after[key][1] == "Renamed Film" and after[key][0] == before[key][0]
    assert {k: v for k, v in after.items() if k != key} == {k: v for k, v in before.items() if k != key}
    assert provider.channel_count == total


def test_a_new_guide_or_new_group_patterns_make_a_refresh_read_everything(panel, make_provider, reads):
    from tests.channels.test_api_channels import _guide

    provider = refresh_now(make_provider(panel))
    assert Channel.objects.get(provider=provider, key="xt:live:1000").epg_channel_id == ""
    _guide()  # an EPG import: BBC One has a guide channel now
    reads.clear()
    provider = refresh_now(provider)
    assert len(reads) == provider.channel_count
    assert Channel.objects.get(provider=provider, key="xt:live:1000").epg_channel_id == "BBCOne.uk"
    assert "(0 new, 2 changed, 0 removed)" in provider.last_message  # BBC One and ITV 1: only they are written
    reads.clear()
    provider = refresh_now(provider)
    assert reads == []
    provider.exclude_groups = "nothing-matches-this"
    provider.save()
    reads.clear()
    provider = refresh_now(provider)
    assert len(reads) == provider.channel_count and "(0 new, 0 changed, 0 removed)" in provider.last_message


def test_a_new_category_name_from_player_api_is_read_again(panel, make_provider, reads, monkeypatch):
    provider = refresh_now(make_provider(panel))
    japan = [s["stream_id"] for s in panel.live if s["category_id"] == 3]
    real = type(panel).action

    def action(self, name, user):
        out = real(self, name, user)
        if name == "get_live_categories":
            out = [{**c, "category_name": "Japan"} if str(c["category_id"]) == "3" else c for c in out]
        return out

    monkeypatch.setattr(type(panel), "action", action)
    reads.clear()
    provider = refresh_now(provider)
    assert len(reads) == len(japan)  # the Japanese list has no group-title: player_api.php's name is its group
    groups = set(Channel.objects.filter(provider=provider, stream_id__in=japan).values_list("group_title", flat=True))
    assert groups == {"Japan"}


def test_duplicates_are_counted_the_same_when_only_they_are_read(panel, make_provider, reads):
    panel.live.append(dict(panel.live[0]))  # the same stream id twice
    provider = refresh_now(make_provider(panel))
    first = provider.last_message
    assert "1 duplicate entries skipped" in first
    reads.clear()
    provider = refresh_now(provider)
    # only the second entry of the key is read (the group patterns decide before it counts as a duplicate)
    assert reads == [panel.live[0]["name"]]
    assert provider.channel_count == len(panel.live) - 1 + len(panel.vod) + len(panel.series)
    assert provider.last_message == first.replace(f"({provider.channel_count} new,", "(0 new,")


def test_rows_from_before_the_source_hash_are_read_once_then_trusted(panel, make_provider, reads):
    provider = refresh_now(make_provider(panel))
    Channel.objects.filter(provider=provider).update(source_hash=0)  # as the migration leaves them
    Provider.objects.filter(pk=provider.pk).update(row_context=0)
    reads.clear()
    provider = refresh_now(provider)
    assert len(reads) == provider.channel_count and "(0 new, 0 changed, 0 removed)" in provider.last_message
    assert not Channel.objects.filter(provider=provider, source_hash=0).exists()
    reads.clear()
    refresh_now(provider)
    assert reads == []


def test_a_queued_refresh_waits_in_a_busy_queue_but_a_lost_one_is_freed(panel, make_provider, clock, settings):
    from homelab import jobs

    provider = make_provider(panel)
    token = services.claim_refresh(provider.pk)
    clock.travel(settings.JOB_HEARTBEAT_STALE * 10)  # behind long jobs in the worker: not taken for lost
    assert jobs.sweep_all() == {} and jobs.free_dead_claims() == {}
    assert Provider.objects.get(pk=provider.pk).run_token == token
    clock.travel(settings.CELERY_TASK_TIME_LIMIT)  # never started: its message was lost
    assert jobs.sweep_all() == {"channels.Provider": 1}
    row = Provider.objects.get(pk=provider.pk)
    assert (row.status, row.run_token, row.progress) == ("error", "", 0)
    assert row.last_error == "The refresh stopped: its worker was lost; the previous catalogue is kept."
    assert services.run_refresh(provider.pk, token) is None  # the late delivery does nothing


def _garbage(lines: int) -> str:
    rnd = random.Random(7)
    # each line starts with a letter: not a comment, not a URL (what random bytes decode to, mostly)
    return "".join("x" + "".join(rnd.choice(string.ascii_letters + string.punctuation + "é") for _ in range(40))
                   + "\n" for _ in range(lines))


def test_a_playlist_that_is_half_garbage_keeps_the_old_catalogue(panel, make_provider):
    provider = refresh_now(make_provider(panel))
    before = catalogue(provider)
    panel.live, panel.vod, panel.series = panel.live[:40], panel.vod[:10], []  # the rest of the file is damage
    panel.extra_lines = _garbage(3000)
    provider = refresh_now(provider)
    assert provider.status == "error" and catalogue(provider) == before
    assert provider.last_error == ("The refresh failed; the previous catalogue is kept. The playlist looks damaged: "
                                   f"3000 unreadable lines, and 50 entries where there were {len(before)} channels.")


def test_a_real_drop_with_clean_lines_or_a_few_junk_lines_is_swapped_in(panel, make_provider):
    provider = refresh_now(make_provider(panel))
    panel.live, panel.vod, panel.series = panel.live[:40], panel.vod[:10], []
    panel.extra_lines = _garbage(999)  # below the threshold
    provider = refresh_now(provider)
    assert provider.status == "success" and provider.channel_count == 50
    assert provider.last_message.endswith("; 999 unreadable lines skipped")


def test_a_first_refresh_with_garbage_has_nothing_to_protect(panel, make_provider):
    panel.extra_lines = _garbage(3000)
    provider = refresh_now(make_provider(panel))
    assert provider.status == "success" and provider.last_message.endswith("; 3000 unreadable lines skipped")
