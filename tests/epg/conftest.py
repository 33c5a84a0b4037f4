import shutil
import uuid
from pathlib import Path

import pytest
from django.conf import settings

from epg import services
from epg.models import EPGSource
from homelab import jobs


@pytest.fixture
def guide_file(fixture_path):
    """Copy a fixture (or write given bytes) under the data dir; returns the path relative to it."""
    folder = Path(settings.DATA_DIR) / "test-guides" / uuid.uuid4().hex[:8]
    folder.mkdir(parents=True)

    def make(name: str, content: bytes | None = None) -> str:
        target = folder / name
        if content is None:
            shutil.copyfile(fixture_path("epg", name), target)
        else:
            target.write_bytes(content)
        return str(target.relative_to(settings.DATA_DIR))

    yield make
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def file_source(guide_file):
    def make(filename: str, content: bytes | None = None, **kw) -> EPGSource:
        kw.setdefault("name", f"{filename}-{uuid.uuid4().hex[:6]}")
        kw.setdefault("refresh_interval", 0)
        return EPGSource.objects.create(source_type="file", file_path=guide_file(filename, content), **kw)

    return make


def import_now(source: EPGSource) -> EPGSource:
    """Claim and run an import in this process (what the worker does); returns the refreshed row."""
    token = uuid.uuid4().hex
    assert jobs.claim(EPGSource, source.pk, running=EPGSource.RUNNING, to="fetching", run_token=token)
    services.run_import(source.pk, token)
    source.refresh_from_db()
    return source
