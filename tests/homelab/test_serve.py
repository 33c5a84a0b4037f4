"""manage.py serve refuses to start, with one clear line, when stored secrets cannot be decrypted."""
import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.test import override_settings

from homelab import crypto
from homelab.models import SiteSecret

pytestmark = pytest.mark.django_db


def test_it_stops_before_starting_anything_when_the_keys_are_wrong(monkeypatch):
    SiteSecret.objects.create(name="x", value="secret-value")
    spawned = []
    monkeypatch.setattr("homelab.management.commands.serve.embedded.start", lambda data_dir: None)
    monkeypatch.setattr("homelab.management.commands.serve.Command.spawn", lambda self, name, argv: spawned.append(name))
    with override_settings(HOMELAB_ENCRYPTION_KEYS=[Fernet.generate_key().decode()]):
        crypto.reset_cache()
        with pytest.raises(CommandError) as caught:
            call_command("serve", "--port", "1")
    crypto.reset_cache()
    assert str(caught.value).startswith("Cannot decrypt homelab.SiteSecret.value with the configured encryption keys")
    assert spawned == []


def test_at_start_it_frees_jobs_its_killed_workers_held_and_their_downloads_before_starting_a_worker(
        monkeypatch, clock, settings):
    """Defect 4: after `kill -9` of the worker mid-import, `make run` again left the source "parsing 19 %"."""
    import os

    from epg.models import EPGSource
    from homelab import jobs

    settings.JOB_HEARTBEAT_INTERVAL = 5
    dead = EPGSource.objects.create(name="dead", url="http://guide.example/a.xml")
    alive = EPGSource.objects.create(name="alive", url="http://guide.example/b.xml")  # another stack's worker
    EPGSource.objects.filter(pk=dead.pk).update(status="parsing", progress=19, run_token="t1",
                                                heartbeat_at=clock.now())
    tmp = jobs.tmp_dir()
    tmp.mkdir(parents=True, exist_ok=True)
    left = tmp / f"epg-{dead.pk}-x.download"
    left.write_bytes(b"half a guide")
    os.utime(left, (clock.time(), clock.time()))
    clock.travel(20)  # the restart: more than three heartbeat intervals later
    EPGSource.objects.filter(pk=alive.pk).update(status="parsing", run_token="t2", heartbeat_at=clock.now())
    seen = {}

    def spawn(self, name, argv):
        seen[name] = dict(EPGSource.objects.values_list("name", "status"))

    monkeypatch.setattr("homelab.management.commands.serve.embedded.start", lambda data_dir: None)
    monkeypatch.setattr("homelab.management.commands.serve.Command.spawn", spawn)
    monkeypatch.setattr("homelab.management.commands.serve.Command.wait", lambda self: 0)
    call_command("serve", "--port", "1", "--no-beat")
    assert seen["worker"] == {"dead": "error", "alive": "parsing"}
    row = EPGSource.objects.get(pk=dead.pk)
    assert (row.progress, row.run_token) == (0, "")
    assert row.last_message == "Stopped: the worker running it was stopped; run it again."
    assert not left.exists()
