"""IPTV_HOST / IPTV_USERNAME / IPTV_PASSWORD configure the default provider after migrate, idempotently."""
import pytest
from django.core.management import call_command

from channels import providers
from channels.models import Provider
from integrations.models import Service

pytestmark = pytest.mark.django_db


def test_nothing_without_iptv_host(settings):
    settings.IPTV_HOST = ""
    assert providers.configure_from_settings() == (None, False)
    assert not Provider.objects.exists()


def test_the_default_provider_comes_from_the_settings_and_migrate_keeps_it(settings,
                                                                          django_capture_on_commit_callbacks):
    settings.IPTV_HOST, settings.IPTV_USERNAME, settings.IPTV_PASSWORD = "panel.example:8080", "bob", "pw-123456"
    with django_capture_on_commit_callbacks() as callbacks:
        call_command("migrate", verbosity=0)
    assert len(callbacks) == 1  # its first refresh, queued at once
    provider = Provider.objects.get(is_default=True)
    assert provider.status == "fetching" and provider.service.api_auth_type == "xtream"
    assert provider.service.api_url == "http://panel.example:8080" and provider.service.api_password == "pw-123456"
    assert provider.host == "http://panel.example:8080"
    with django_capture_on_commit_callbacks() as callbacks:
        call_command("migrate", verbosity=0)
    assert callbacks == []  # running already: nothing new
    assert Provider.objects.count() == 1 and Service.objects.count() == 1
    settings.IPTV_PASSWORD = "changed-pw-1"
    assert providers.configure_from_settings()[1] is True
    assert Provider.objects.get().pk == provider.pk
    assert Provider.objects.get().service.api_password == "changed-pw-1"


def test_a_bad_host_is_logged_and_ignored(settings, caplog):
    settings.IPTV_HOST = "ftp://nope"
    assert providers.configure_from_settings() == (None, False)
    assert "IPTV_HOST is not a URL" in caplog.text


def test_the_beat_row_exists():
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="channels.refresh_stale")
    assert task.enabled and task.interval.every == 15


def test_the_default_provider_follows_later_changes_of_verify_ssl_and_the_ttl(settings, clock):
    from datetime import timedelta

    settings.IPTV_HOST, settings.IPTV_USERNAME, settings.IPTV_PASSWORD = "panel.example:8080", "bob", "pw-123456"
    settings.VERIFY_SSL, settings.CACHE_TTL_SECONDS = False, 600
    provider, _ = providers.configure_from_settings()
    provider.refresh_from_db()
    assert (provider.verify_ssl, provider.ttl_seconds) == (None, None)  # its own choice: none, the settings rule
    assert provider.verifies_ssl is False and provider.ttl == 600
    Provider.objects.filter(pk=provider.pk).update(refreshed_at=clock.now() - timedelta(seconds=700))
    assert Provider.objects.get(pk=provider.pk).is_stale
    settings.VERIFY_SSL, settings.CACHE_TTL_SECONDS = True, 3600  # the .env edited, the stack restarted
    providers.configure_from_settings()
    provider = Provider.objects.get(pk=provider.pk)
    assert provider.verifies_ssl is True and provider.service.verify_ssl is True
    assert provider.ttl == 3600 and not provider.is_stale


def test_a_providers_own_ttl_and_verify_ssl_win_over_the_settings(settings, make_provider):
    provider = make_provider(source_type="file", ttl_seconds=60, verify_ssl=False)
    settings.VERIFY_SSL, settings.CACHE_TTL_SECONDS = True, 3600
    assert provider.ttl == 60 and provider.verifies_ssl is False
