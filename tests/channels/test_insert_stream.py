"""The refresh outside a caller's transaction: on PostgreSQL its new rows go to a COPY written by a thread of
its own while the playlist is read (``catalogue.InsertStream``); on SQLite the same tests run the spooled swap.
Either way a refresh that fails anywhere leaves the previous catalogue as it was."""
import threading

import pytest
from django.db import connection

from channels import catalogue
from channels.models import Channel
from tests.channels.conftest import refresh_now

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def streams(monkeypatch):
    """How many InsertStreams refreshes made (on PostgreSQL each refresh makes one)."""
    made = []
    real = catalogue.InsertStream

    class Counted(real):
        def __init__(self):
            made.append(self)
            super().__init__()

    monkeypatch.setattr(catalogue, "InsertStream", Counted)
    return made


def keys(provider):
    return dict(Channel.objects.filter(provider=provider).values_list("key", "id"))


def no_writer_left():
    return not [t for t in threading.enumerate() if t.name == "channels-copy"]


def test_a_refresh_streams_its_new_rows_and_keeps_ids_across_refreshes(panel, make_provider, streams):
    provider = refresh_now(make_provider(panel))
    assert provider.status == "success", provider.last_message
    expected = len(panel.live) + len(panel.vod) + len(panel.series)
    first = keys(provider)
    assert len(first) == expected == provider.channel_count
    assert len(streams) == (1 if connection.vendor == "postgresql" else 0)
    removed = panel.vod.pop()
    panel.live.append({**panel.live[0], "stream_id": 77777, "name": "Brand New"})
    provider = refresh_now(provider)
    head = provider.last_message.split(";")[0]
    assert head.startswith(f"{expected} channels (1 new, ") and head.endswith(" changed, 1 removed)")  # moved ones change
    second = keys(provider)
    assert f"xt:movie:{removed['stream_id']}" not in second and "xt:live:77777" in second
    assert {k: v for k, v in second.items() if k in first} == {k: v for k, v in first.items() if k in second}
    assert no_writer_left()


def _fail_at(monkeypatch, n, make_row):
    real, seen = catalogue.build_row, [0]

    def build_row(*args):
        seen[0] += 1
        row = real(*args)
        return make_row(row) if seen[0] == n else row

    monkeypatch.setattr(catalogue, "build_row", build_row)


def _changed_playlist(panel):
    for i, s in enumerate(panel.live):
        s["stream_id"] += 100000  # every live entry new: the refresh has rows to stream when it fails
        s["name"] = f"renumbered {i}"


def test_a_failure_while_reading_rolls_back_the_streamed_rows(panel, make_provider, monkeypatch):
    provider = refresh_now(make_provider(panel))
    before = keys(provider)
    _changed_playlist(panel)

    def explode(row):
        raise ValueError("boom")

    _fail_at(monkeypatch, 150, explode)
    provider = refresh_now(provider)
    assert provider.status == "error"
    assert provider.last_message == ("The refresh failed; the previous catalogue is kept. Unexpected error: "
                                     "ValueError")
    assert keys(provider) == before and provider.channel_count == len(before)
    assert no_writer_left()


def test_a_row_the_database_refuses_fails_the_refresh_and_keeps_the_catalogue(panel, make_provider, monkeypatch):
    provider = refresh_now(make_provider(panel))
    before = keys(provider)
    _changed_playlist(panel)
    # a row the database refuses (no name: NOT NULL): on PostgreSQL the writer fails and the reader hears it
    name = catalogue.COLUMNS.index("name")
    _fail_at(monkeypatch, 20, lambda row: row[:name] + (None,) + row[name + 1:])
    provider = refresh_now(provider)
    assert provider.status == "error" and "previous catalogue is kept" in provider.last_message
    assert keys(provider) == before
    assert no_writer_left()


def test_a_claim_lost_during_the_read_swaps_nothing_in(panel, make_provider, monkeypatch):
    from channels.models import Provider

    provider = refresh_now(make_provider(panel))
    before = keys(provider)
    _changed_playlist(panel)

    def steal(row):
        Provider.objects.filter(pk=provider.pk).update(run_token="someone-else")
        return row

    _fail_at(monkeypatch, 100, steal)
    refresh_now(provider)
    provider.refresh_from_db()
    assert provider.run_token == "someone-else"  # the other claim's row is left to it
    assert keys(provider) == before
    assert no_writer_left()



@pytest.mark.parametrize("what", ["provider", "provider-action", "channel-action"])
def test_admin_deletes_lock_the_provider_row_before_any_channel(panel, make_provider, admin_user, client, what):
    """A refresh's swap locks the provider's row before it writes old channels; the admin's deletes take the same
    row first, so a delete during a swap waits for it instead of deadlocking with it."""
    from django.test.utils import CaptureQueriesContext

    provider = refresh_now(make_provider(panel))
    client.force_login(admin_user)
    some = list(Channel.objects.filter(provider=provider).values_list("id", flat=True)[:3])
    with CaptureQueriesContext(connection) as queries:
        if what == "provider":
            r = client.post(f"/admin/channels/provider/{provider.pk}/delete/", {"post": "yes"})
        elif what == "provider-action":
            r = client.post("/admin/channels/provider/", {"action": "delete_selected",
                                                          "_selected_action": [provider.pk], "post": "yes"})
        else:
            r = client.post("/admin/channels/channel/", {"action": "delete_selected", "_selected_action": some,
                                                         "post": "yes"})
    assert r.status_code == 302
    sql = [q["sql"] for q in queries.captured_queries]
    first_delete = next(i for i, q in enumerate(sql) if q.startswith('DELETE FROM "channels_channel"'))
    # SQLite has no row locks (its write transactions run one at a time): the same read, without FOR UPDATE
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    assert any(q.startswith('SELECT "channels_provider"."id" AS "pk" FROM "channels_provider"') and q.endswith(
        f"ORDER BY 1 ASC{lock}") for q in sql[:first_delete]), sql[:first_delete]
