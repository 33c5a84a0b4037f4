"""IPTV_HOST / IPTV_USERNAME / IPTV_PASSWORD configure the default provider after migrate, idempotently."""
import pytest
from django.core.management import call_command

from channels import providers
from channels.models import Provider
from integrations.models import Service

pytestmark = pytest.mark.django_db


def test_nothing_without_iptv_host(settings):
    settings.IPTV_HOST = ""
    assert providers.configure_from_settings() is None
    assert not Provider.objects.exists()


def test_the_default_provider_comes_from_the_settings_and_migrate_keeps_it(settings):
    settings.IPTV_HOST, settings.IPTV_USERNAME, settings.IPTV_PASSWORD = "panel.example:8080", "bob", "pw-123456"
    call_command("migrate", verbosity=0)
    provider = Provider.objects.get(is_default=True)
    assert provider.service.api_url == "http://panel.example:8080" and provider.service.api_password == "pw-123456"
    assert provider.host == "http://panel.example:8080"
    call_command("migrate", verbosity=0)
    assert Provider.objects.count() == 1 and Service.objects.count() == 1
    settings.IPTV_PASSWORD = "changed-pw-1"
    providers.configure_from_settings()
    assert Provider.objects.get().pk == provider.pk
    assert Provider.objects.get().service.api_password == "changed-pw-1"


def test_a_bad_host_is_logged_and_ignored(settings, caplog):
    settings.IPTV_HOST = "ftp://nope"
    assert providers.configure_from_settings() is None
    assert "IPTV_HOST is not a URL" in caplog.text


def test_the_beat_row_exists():
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="channels.refresh_stale")
    assert task.enabled and task.interval.every == 15
