"""Expiry on time: a task at each account's expiry moment, a sweep every minute, delete or disable, audited."""
from datetime import timedelta

import pytest
from django_celery_beat.models import PeriodicTask

from invites import expiry, services, tasks
from invites.models import AuditEntry, RemoteUser

GOOD = {"username": "newbie", "email": "newbie@example.com", "password": "Secret123", "password_confirm": "Secret123"}


@pytest.fixture
def joined(client, jellyfin, make_server, django_capture_on_commit_callbacks, monkeypatch):
    """newbie joined with a 7-day invitation; the expiry task it queued is captured."""
    server = make_server(jellyfin, name="Main")
    inv = services.create_invitation(unlimited=False, duration=7, server_ids=[server.pk])
    queued = []
    monkeypatch.setattr(tasks.expire_user, "apply_async", lambda args, eta: queued.append((args, eta)))
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/j/{inv.code}", GOOD).status_code == 200
    user = RemoteUser.objects.get(username="newbie")
    user.queued = queued
    return user


def test_a_join_leaves_a_far_expiry_to_the_sweep_which_queues_it_at_its_moment(joined, clock, monkeypatch):
    assert joined.queued == []  # 7 days away: not an eta task in the broker for a week
    queued = []
    monkeypatch.setattr(tasks.expire_user, "apply_async", lambda args, eta: queued.append((args, eta)))
    clock.travel(7 * 86400 - 120)
    tasks.sweep_expired()
    assert queued == []
    clock.travel(60)
    assert tasks.sweep_expired() == {}
    assert queued == [((joined.pk,), joined.expires)]


def test_an_expiry_minutes_away_is_queued_at_once(joined, clock, django_capture_on_commit_callbacks):
    joined.expires = clock.now() + timedelta(minutes=3)
    joined.save()
    with django_capture_on_commit_callbacks(execute=True):
        tasks.queue_expiry(joined)
    assert joined.queued == [((joined.pk,), joined.expires)]


def test_the_sweep_and_the_beat_rows_exist(db):
    sweep = PeriodicTask.objects.get(task="invites.sweep_expired")
    assert (sweep.interval.every, sweep.interval.period, sweep.enabled) == (1, "minutes", True)
    assert PeriodicTask.objects.get(task="invites.sync_users").enabled


def test_nothing_happens_before_the_expiry(joined, jellyfin, clock):
    clock.travel(7 * 86400 - 60)
    assert expiry.expire_user(joined.pk) == "not due"
    assert expiry.sweep() == {}
    assert jellyfin.user_named("newbie") is not None


def test_delete_on_time_with_an_audit_row(joined, jellyfin, clock, settings):
    settings.INVITES_EXPIRY_ACTION = "delete"
    clock.travel(7 * 86400 + 1)
    assert expiry.expire_user(joined.pk) == "delete"
    assert jellyfin.user_named("newbie") is None
    assert not RemoteUser.objects.filter(pk=joined.pk).exists()
    entry = AuditEntry.objects.get(action="expired_deleted")
    assert (entry.username, entry.server_name, entry.actor) == ("newbie", "Main", "expiry")
    assert expiry.expire_user(joined.pk) == "not due"  # a second delivery does nothing


def test_disable_sets_is_disabled_and_keeps_the_user_listed(joined, jellyfin, clock, settings, api):
    settings.INVITES_EXPIRY_ACTION = "disable"
    clock.travel(7 * 86400 + 1)
    assert expiry.sweep() == {"disable": 1}
    policy = jellyfin.user_named("newbie")["Policy"]
    assert policy["IsDisabled"] is True and policy["EnabledFolders"]  # the rest of the policy kept
    joined.refresh_from_db()
    assert joined.disabled is True
    assert AuditEntry.objects.filter(action="expired_disabled", username="newbie").count() == 1
    assert expiry.sweep() == {}  # done once
    assert [u["username"] for u in api.get("/invites/api/users").json()["users"]] == ["newbie"]


def test_a_server_down_during_the_sweep_is_retried_next_run(joined, jellyfin, clock):
    clock.travel(7 * 86400 + 1)
    jellyfin.down = True
    assert expiry.sweep() == {"error": 1}
    joined.refresh_from_db()
    assert "Main answered HTTP 503" in joined.last_error
    assert list(expiry.due().values_list("pk", flat=True)) == [joined.pk]  # still listed as due
    assert not AuditEntry.objects.filter(action__startswith="expired").exists()
    jellyfin.down = False
    clock.travel(60)
    assert expiry.sweep() == {"delete": 1}
    assert jellyfin.user_named("newbie") is None


def test_an_extension_moves_the_expiry(joined, jellyfin, clock):
    services.extend_user(joined, days=10)
    clock.travel(7 * 86400 + 1)
    assert expiry.expire_user(joined.pk) == "not due"
    clock.travel(10 * 86400)
    assert expiry.expire_user(joined.pk) == "delete"


def test_a_plex_account_expires_by_removing_its_share(client, pms, plextv, make_server, clock, settings):
    settings.INVITES_EXPIRY_ACTION = "disable"
    server = make_server(pms, server_type="plex")
    account, _ = plextv.add_account("dave")
    share_id = plextv.add_friend(account, pms.machine_identifier)
    services.sync_users(server)
    user = RemoteUser.objects.get()
    assert user.share_id == str(share_id)
    user.expires = clock.now() + timedelta(hours=1)
    user.save()
    clock.travel(3601)
    assert expiry.sweep() == {"disable": 1}
    assert share_id not in plextv.shares
    user.refresh_from_db()
    assert user.disabled and user.share_id == ""


def test_joins_and_expiries_are_published_on_the_invites_channel(joined, clock, monkeypatch):
    from homelab import events

    seen = []
    monkeypatch.setattr(events, "publish", lambda channel, event, data: seen.append((channel, event, data)))
    clock.travel(7 * 86400 + 1)
    expiry.sweep()
    assert seen == [("invites", "user_expired", {"id": joined.pk, "username": "newbie", "server": "Main",
                                                 "action": "delete"})]


def test_extending_an_account_disabled_at_its_expiry_enables_it_again(joined, jellyfin, clock, settings, api):
    settings.INVITES_EXPIRY_ACTION = "disable"
    clock.travel(7 * 86400 + 1)
    assert expiry.sweep() == {"disable": 1}
    r = api.post(f"/invites/api/users/{joined.pk}/extend", {"days": 30}, format="json")
    assert r.status_code == 200, r.content
    assert jellyfin.user_named("newbie")["Policy"]["IsDisabled"] is False
    joined.refresh_from_db()
    assert joined.disabled is False and joined.expires > clock.now()
    assert AuditEntry.objects.filter(action="enabled", username="newbie").count() == 1


def test_an_extension_the_server_refuses_to_enable_changes_nothing(joined, jellyfin, clock, settings, api):
    settings.INVITES_EXPIRY_ACTION = "disable"
    clock.travel(7 * 86400 + 1)
    assert expiry.sweep() == {"disable": 1}
    joined.refresh_from_db()
    before = joined.expires
    jellyfin.down = True
    r = api.post(f"/invites/api/users/{joined.pk}/extend", {"days": 30}, format="json")
    assert r.status_code == 502 and r.json() == {"error": "Could not enable newbie on Main: Main answered HTTP 503 "
                                                          "while reading newbie"}
    joined.refresh_from_db()
    assert joined.expires == before and joined.disabled is True
