"""A real Celery worker runs the expiry task queued at join time and the beat sweep's task."""
from datetime import timedelta

import pytest

from homelab import clock
from invites import tasks
from invites.models import AuditEntry, RemoteUser

pytestmark = pytest.mark.e2e


def test_a_real_worker_deletes_the_account_at_its_expiry_moment(celery_worker, transactional_db, jellyfin,
                                                                  make_server, poll):
    server = make_server(jellyfin, name="Main")
    remote = jellyfin.add_user("shortlived")
    user = RemoteUser.objects.create(server=server, external_id=remote["Id"], username="shortlived",
                                     expires=clock.now() + timedelta(seconds=1))
    tasks.expire_user.apply_async((user.pk,), eta=user.expires)
    poll(lambda: not RemoteUser.objects.filter(pk=user.pk).exists(), timeout=60,
         message=f"the worker to expire the account; log:\n{celery_worker.log_tail()}")
    assert jellyfin.user_named("shortlived") is None
    assert AuditEntry.objects.filter(action="expired_deleted", username="shortlived").exists()


def test_a_real_worker_runs_the_sweep(celery_worker, transactional_db, jellyfin, make_server, poll):
    server = make_server(jellyfin, name="Main")
    remote = jellyfin.add_user("late")
    RemoteUser.objects.create(server=server, external_id=remote["Id"], username="late",
                              expires=clock.now() - timedelta(minutes=5))
    result = tasks.sweep_expired.delay()
    assert result.get(timeout=60) == {"delete": 1}
    assert jellyfin.user_named("late") is None and not RemoteUser.objects.filter(username="late").exists()
