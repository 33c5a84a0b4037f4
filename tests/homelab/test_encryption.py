"""Secrets at rest: Fernet ciphertext in the column, the key file, wrong keys, rotation."""
import os
import stat
from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from homelab import crypto
from homelab.crypto import DecryptionError
from homelab.fields import check_decryptable
from homelab.models import SiteSecret

pytestmark = pytest.mark.django_db


@pytest.fixture
def key_file(tmp_path):
    path = tmp_path / "keys" / "encryption.key"
    with override_settings(HOMELAB_ENCRYPTION_KEYS=[], HOMELAB_ENCRYPTION_KEY_FILE=path):
        crypto.reset_cache()
        yield path
    crypto.reset_cache()


def raw_value(name: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT value FROM homelab_sitesecret WHERE name = %s", [name])
        return cursor.fetchone()[0]


def test_the_plaintext_is_not_in_the_column(key_file):
    SiteSecret.objects.create(name="plex", value="plex-token-abcdef")
    stored = raw_value("plex")
    assert "plex-token-abcdef" not in stored
    assert Fernet(key_file.read_text().strip().encode()).decrypt(stored.encode()) == b"plex-token-abcdef"
    assert SiteSecret.objects.get(name="plex").value == "plex-token-abcdef"


def test_encrypting_twice_gives_different_ciphertext(key_file):
    SiteSecret.objects.create(name="a", value="same-secret")
    SiteSecret.objects.create(name="b", value="same-secret")
    assert raw_value("a") != raw_value("b")


def test_the_key_file_is_created_with_mode_0600(key_file):
    assert not key_file.exists()
    SiteSecret.objects.create(name="x", value="secret-value")
    assert key_file.exists()
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600


def test_env_keys_take_precedence_and_any_of_them_decrypts(key_file):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with override_settings(HOMELAB_ENCRYPTION_KEYS=[old]):
        SiteSecret.objects.create(name="x", value="written-with-old")
    with override_settings(HOMELAB_ENCRYPTION_KEYS=[new, old]):
        assert SiteSecret.objects.get(name="x").value == "written-with-old"
        SiteSecret.objects.create(name="y", value="written-with-new")
    assert Fernet(new.encode()).decrypt(raw_value("y").encode()) == b"written-with-new"
    assert not key_file.exists()


def test_a_wrong_key_is_a_clear_error_naming_the_column(key_file):
    SiteSecret.objects.create(name="x", value="secret-value")
    with override_settings(HOMELAB_ENCRYPTION_KEYS=[Fernet.generate_key().decode()]):
        with pytest.raises(DecryptionError) as caught:
            check_decryptable()
        assert "homelab.SiteSecret.value" in str(caught.value)
        assert "HOMELAB_ENCRYPTION_KEYS" in str(caught.value)
        assert "secret-value" not in str(caught.value)
        with pytest.raises(DecryptionError):
            SiteSecret.objects.get(name="x")


def test_an_invalid_key_is_a_clear_error():
    with override_settings(HOMELAB_ENCRYPTION_KEYS=["not-a-fernet-key"]):
        with pytest.raises(Exception, match="not a valid Fernet key"):
            crypto.encrypt("x")


def test_rotation_reencrypts_everything_under_a_new_primary_key(key_file):
    SiteSecret.objects.create(name="a", value="alpha-secret")
    SiteSecret.objects.create(name="b", value="beta-secret")
    old_key = key_file.read_text().strip()
    before = {n: raw_value(n) for n in ("a", "b")}

    out = StringIO()
    call_command("rotate_encryption_key", stdout=out)
    assert "Re-encrypted 2 value(s)" in out.getvalue()

    keys = key_file.read_text().split()
    assert len(keys) == 2 and keys[1] == old_key
    new_only = Fernet(keys[0].encode())
    for name, plaintext in (("a", b"alpha-secret"), ("b", b"beta-secret")):
        assert raw_value(name) != before[name]
        assert new_only.decrypt(raw_value(name).encode()) == plaintext
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    with override_settings(HOMELAB_ENCRYPTION_KEYS=[keys[0]]):
        crypto.reset_cache()
        assert SiteSecret.objects.get(name="a").value == "alpha-secret"


def test_rotation_with_env_keys_prints_the_new_setting(key_file):
    old = Fernet.generate_key().decode()
    new = Fernet.generate_key().decode()
    with override_settings(HOMELAB_ENCRYPTION_KEYS=[old]):
        SiteSecret.objects.create(name="a", value="alpha-secret")
        out = StringIO()
        call_command("rotate_encryption_key", f"--new-key={new}", stdout=out)  # a key may start with "-"
    assert f"{new},{old}" in out.getvalue()
    assert Fernet(new.encode()).decrypt(raw_value("a").encode()) == b"alpha-secret"


def test_rotation_changes_nothing_when_a_value_cannot_be_decrypted(key_file):
    SiteSecret.objects.create(name="a", value="alpha-secret")
    stranger = Fernet(Fernet.generate_key()).encrypt(b"unknown").decode()
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO homelab_sitesecret (name, value, created_at) VALUES ('b', %s, CURRENT_TIMESTAMP)",
                       [stranger])
    before = raw_value("a")
    with pytest.raises(Exception, match="Cannot decrypt homelab.SiteSecret.value"):
        call_command("rotate_encryption_key", stdout=StringIO())
    assert raw_value("a") == before
    assert len(key_file.read_text().split()) == 1
