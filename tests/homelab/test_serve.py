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
