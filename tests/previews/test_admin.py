"""Admin: a job's change page with its items, the Cancel action, an item's page reading its BIF back."""
import pytest
from django.urls import reverse

from previews.models import Job, JobItem
from previews.parsers import write_bif

pytestmark = pytest.mark.django_db

JPEG = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffd9")


def test_the_cancel_action_cancels_active_jobs(client, admin_user):
    client.force_login(admin_user)
    running = Job.objects.create(library_id="1", status="running")
    done = Job.objects.create(library_id="1", status="completed")
    JobItem.objects.create(job=running, plex_id="1", media_hash="ab")
    response = client.post(reverse("admin:previews_job_changelist"),
                           {"action": "cancel", "_selected_action": [str(running.pk), str(done.pk)]}, follow=True)
    assert b"Cancelled 1 job(s); 1 had already finished." in response.content
    assert Job.objects.get(pk=running.pk).status == "cancelled"
    assert Job.objects.get(pk=done.pk).status == "completed"


def test_a_job_page_lists_its_items_with_their_errors(client, admin_user):
    client.force_login(admin_user)
    job = Job.objects.create(library_id="1", status="failed")
    JobItem.objects.create(job=job, plex_id="1", media_hash="ab", title="Sintel", status="failed",
                           error="File not found: /mnt/x.mkv (Plex path /data/x.mkv).")
    page = client.get(reverse("admin:previews_job_change", args=[job.pk]))
    assert page.status_code == 200
    assert b"File not found: /mnt/x.mkv (Plex path /data/x.mkv)." in page.content


def test_an_item_page_reads_its_bif_back(client, admin_user, tmp_path):
    client.force_login(admin_user)
    bif = tmp_path / "index-sd.bif"
    write_bif(bif, [JPEG, JPEG], 5000)
    job = Job.objects.create(library_id="1", status="completed")
    item = JobItem.objects.create(job=job, plex_id="1", media_hash="ab", bif_path=str(bif), status="completed")
    page = client.get(reverse("admin:previews_jobitem_change", args=[item.pk]))
    assert b"2 frame(s), 5000 ms apart" in page.content


def test_the_settings_page_renders_and_run_again_queues_a_new_job(client, admin_user, configured,
                                                                  django_capture_on_commit_callbacks):
    from previews.models import PreviewSettings

    client.force_login(admin_user)
    page = client.get(reverse("admin:previews_previewsettings_change", args=[PreviewSettings.load().pk]))
    assert page.status_code == 200 and b"plex_config_folder" in page.content
    job = Job.objects.create(library_id="1", library_name="Movies", status="failed")
    with django_capture_on_commit_callbacks(execute=False) as queued:
        client.post(reverse("admin:previews_job_changelist"), {"action": "run_again", "_selected_action": [str(job.pk)]})
    assert Job.objects.filter(status="pending", library_id="1").count() == 1 and len(queued) == 1
