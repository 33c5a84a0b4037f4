import pytest

from homelab.celery import ping


@pytest.mark.e2e
def test_a_real_worker_runs_a_task(celery_worker, transactional_db):
    assert ping.delay().get(timeout=30) == "pong"
