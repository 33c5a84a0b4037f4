"""Fernet encryption of secrets at rest (DESIGN.md, "Secrets").

Keys come from ``HOMELAB_ENCRYPTION_KEYS`` (comma-separated, the first encrypts, all decrypt), else from
the key file (``HOMELAB_ENCRYPTION_KEY_FILE``, one key a line, the first encrypts), which is created with
mode 0600 on first use.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .files import create_once

_lock = threading.Lock()
_cached: tuple[tuple[str, ...], MultiFernet] | None = None


class DecryptionError(ImproperlyConfigured):
    """A stored value cannot be decrypted with the configured keys."""


def _read_key_file(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]


def write_key_file(path: Path, keys: list[str]) -> None:
    """Write keys (first encrypts) atomically, readable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write("\n".join(keys) + "\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def configured_keys() -> list[str]:
    if settings.HOMELAB_ENCRYPTION_KEYS:
        return list(settings.HOMELAB_ENCRYPTION_KEYS)
    path = Path(settings.HOMELAB_ENCRYPTION_KEY_FILE)
    with _lock:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            create_once(path, Fernet.generate_key().decode())
        keys = _read_key_file(path)
    if not keys:
        raise ImproperlyConfigured(f"The encryption key file {path} holds no key.")
    return keys


def fernet() -> MultiFernet:
    global _cached
    keys = tuple(configured_keys())
    if _cached is None or _cached[0] != keys:
        try:
            _cached = (keys, MultiFernet([Fernet(k.encode()) for k in keys]))
        except (ValueError, TypeError) as exc:
            raise ImproperlyConfigured(
                "An encryption key is not a valid Fernet key (32 url-safe base64-encoded bytes); "
                "generate one with `python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`."
            ) from exc
    return _cached[1]


def encrypt(plaintext: str) -> str:
    return fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str, *, where: str = "a stored value") -> str:
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise DecryptionError(
            f"Cannot decrypt {where} with the configured encryption keys. Set HOMELAB_ENCRYPTION_KEYS "
            f"(or HOMELAB_ENCRYPTION_KEY_FILE) to the keys this database was written with."
        ) from None


def reset_cache() -> None:
    global _cached
    _cached = None
