import io
import logging

import pytest

from homelab.logging import MaskSecretsFilter


@pytest.fixture
def masked_log():
    """What the production log handler writes (its MaskSecretsFilter on), with integrations and urllib3 at DEBUG:
    ``masked_log.getvalue()`` after the calls."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(MaskSecretsFilter())
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    loggers = [logging.getLogger(n) for n in ("integrations", "urllib3", "homelab")]
    saved = [(lg, lg.level) for lg in loggers]
    root.addHandler(handler)
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    for lg, level in saved:
        lg.setLevel(level)
