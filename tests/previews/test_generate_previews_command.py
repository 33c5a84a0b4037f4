"""manage.py generate_previews without a worker: queueing, and the refusals with their exit codes."""
import pytest
from django.core.management import CommandError, call_command

from previews.models import Job

pytestmark = pytest.mark.django_db


def test_it_queues_a_job_for_the_library(configured, capsys, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as queued:
        call_command("generate_previews", "--library", "1")
    job = Job.objects.get()
    assert (job.library_id, job.library_name, job.status) == ("1", "Movies", "pending")
    assert len(queued) == 1
    assert f"Job {job.pk} queued for library Movies (1)." in capsys.readouterr().out


@pytest.mark.parametrize("library, message", [
    ("42", "The Plex server has no movie or show library with id 42."),
    ("1; rm", "Not a Plex library id: '1; rm'"),
])
def test_a_bad_library_exits_2(configured, library, message):
    with pytest.raises(CommandError) as raised:
        call_command("generate_previews", "--library", library)
    assert raised.value.returncode == 2 and str(raised.value) == message
    assert not Job.objects.exists()


def test_an_unconfigured_plex_exits_2(db):
    with pytest.raises(CommandError) as raised:
        call_command("generate_previews", "--library", "1")
    assert raised.value.returncode == 2
    assert str(raised.value) == "No Plex server is configured: set plex_url and plex_token in the settings."
