"""The logging filter masks secrets: known values and credential-shaped text."""
import io
import logging

import pytest

from homelab.logging import MaskSecretsFilter, register_secret


@pytest.fixture
def log():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(MaskSecretsFilter())
    logger = logging.getLogger("tests.masking")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)


@pytest.mark.parametrize(
    "message, secret",
    [
        ("login with password=hunter2 failed", "hunter2"),
        ('payload {"password": "hunter2"}', "hunter2"),
        ("headers Authorization: Bearer eyJabc.def.ghi", "eyJabc.def.ghi"),
        ("X-Api-Key: 0123456789abcdef", "0123456789abcdef"),
        ("GET /api?apikey=abcdef123456&x=1", "abcdef123456"),
        ("stored gAAAAABlongfernettokenvalue1234567890", "gAAAAABlongfernettokenvalue1234567890"),
    ],
)
def test_credential_shaped_text_is_masked(log, message, secret):
    logger, stream = log
    logger.warning(message)
    assert secret not in stream.getvalue()
    assert "****" in stream.getvalue()


def test_registered_secrets_are_masked_anywhere(log):
    logger, stream = log
    register_secret("my-plex-token-xyz")
    logger.error("upstream said: %s", "bad token my-plex-token-xyz here")
    assert "my-plex-token-xyz" not in stream.getvalue()


def test_tracebacks_are_masked_too(log):
    logger, stream = log
    try:
        raise ValueError("password=hunter2")
    except ValueError:
        logger.exception("failed")
    assert "hunter2" not in stream.getvalue()
    assert "ValueError" in stream.getvalue()


def test_an_unmasked_record_passes(log):
    logger, stream = log
    logger.warning("Token: %s", "shown-once-token", extra={"unmasked": True})
    assert "Token: shown-once-token" in stream.getvalue()
