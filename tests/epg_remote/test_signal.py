"""output_regenerated -> a push task for every enabled link, queued after commit, run by a real worker."""
import pytest

from epg.remote import tasks
from epg.remote.models import DispatcharrLink
from epg.remote.tasks import push_refresh
from epg.signals import output_regenerated

from .links import create_link


def links(fake):
    common = dict(url=fake.url, username=fake.username, password=fake.password, epg_id=21)
    on = create_link(enabled=True, **common)
    off = create_link(enabled=False, **{**common, "username": "someone-else"})
    return on, off


@pytest.mark.django_db
def test_the_signal_queues_a_push_for_each_enabled_link_after_commit(dispatcharr, monkeypatch,
                                                                     django_capture_on_commit_callbacks):
    on, off = links(dispatcharr)
    other = create_link(enabled=True, url="http://other:9191", username="u", password="pw-other")
    queued = []
    monkeypatch.setattr(push_refresh, "delay", lambda link_id: queued.append(link_id))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        output_regenerated.send(sender=None, filename="epg.xml", source_id=3)
        assert queued == []  # nothing before the commit
    assert len(callbacks) == 2
    assert queued == [on.pk, other.pk]
    assert dispatcharr.server.calls == []  # queued, not run in the sender's process


@pytest.mark.django_db
def test_the_receiver_never_raises(monkeypatch, caplog):
    create_link(enabled=True, url="http://other:9191", username="u", password="pw-other")

    def broken(link_id):
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks, "queue_push", broken)
    output_regenerated.send(sender=None, filename="epg.xml", source_id=None)
    assert "Could not queue the push to Dispatcharr link" in caplog.text


@pytest.mark.e2e
def test_a_real_worker_pushes_after_the_signal(celery_worker, transactional_db, dispatcharr, poll):
    on, off = links(dispatcharr)
    output_regenerated.send(sender=None, filename="epg.xml", source_id=None)

    def done():
        on.refresh_from_db()
        return on.last_result not in ("", "running")

    poll(done, timeout=60, message=f"the push to end; worker log:\n{celery_worker.log_tail()}")
    assert on.last_result == "success", on.last_message
    assert on.last_sync is not None
    assert on.last_message.startswith("EPG refresh success in ")
    assert dispatcharr.imports == [21]
    off.refresh_from_db()
    assert off.last_result == ""
    log = celery_worker.log.read_text(errors="replace")
    assert f"Dispatcharr link {on.pk}: EPG refresh success in " in log
    assert dispatcharr.password not in log
