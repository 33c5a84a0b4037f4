"""GET /api/system/status: GPUs from previews.gpu.detect_gpus, worker counts, jobs by status."""
import pytest

from previews.models import Job

pytestmark = pytest.mark.django_db


def test_system_status(client, monkeypatch):
    from previews import gpu

    Job.objects.create(library_id="1", status="completed")
    Job.objects.create(library_id="1", status="failed")
    monkeypatch.setattr(gpu, "detect_gpus", lambda *a, **k: [])
    body = client.get("/previews/api/system/status").json()
    assert body == {"gpus": [], "workers": {"gpu": 0, "cpu": 2},
                    "jobs": {"pending": 0, "running": 0, "completed": 1, "failed": 1, "cancelled": 0}}


def test_system_status_shows_a_present_but_unusable_gpu_with_the_reason(client, monkeypatch):
    from previews import gpu

    found = gpu.GPU(kind="vaapi", device="/dev/dri/renderD128", name="Intel UHD Graphics", driver="i915",
                    usable=False, reason="the test decode failed: Failed to initialise VAAPI connection")
    monkeypatch.setattr(gpu, "detect_gpus", lambda *a, **k: [found])
    assert client.get("/previews/api/system/status").json()["gpus"] == [
        {"type": "vaapi", "device": "/dev/dri/renderD128", "name": "Intel UHD Graphics", "driver": "i915",
         "usable": False, "reason": "the test decode failed: Failed to initialise VAAPI connection"}]
