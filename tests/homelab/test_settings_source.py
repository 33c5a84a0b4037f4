"""One settings source (issue 7, seam 4): apps read ``django.conf.settings.X``, defined once in
homelab/settings.py; no ``getattr(settings, "X", default)`` repeating a default, no ``os.environ``."""
import re

from tests.conftest import ROOT

APPS = ["homelab", "integrations", "epg", "channels", "previews", "invites"]
# the only reads of the environment outside settings.py: the settings module's name, and the clock offset a test
# gives a worker process (read before settings load)
ALLOWED_ENVIRON = {
    "homelab/celery.py": ["DJANGO_SETTINGS_MODULE"],
    "homelab/asgi.py": ["DJANGO_SETTINGS_MODULE"],
    "homelab/wsgi.py": ["DJANGO_SETTINGS_MODULE"],
    "homelab/clock.py": ["HOMELAB_CLOCK_OFFSET"],
}


def _modules():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if "/migrations/" in rel or rel == "homelab/settings.py":
                continue
            yield rel, path.read_text()


def test_no_app_repeats_a_default_with_getattr_settings():
    found = [f"{rel}:{n}" for rel, text in _modules() for n, line in enumerate(text.splitlines(), 1)
             if re.search(r"getattr\(\s*settings\s*,", line)]
    assert found == []


def test_no_app_reads_the_environment():
    found = []
    for rel, text in _modules():
        for n, line in enumerate(text.splitlines(), 1):
            if "os.environ" in line or "os.getenv" in line:
                names = re.findall(r"[\"']([A-Z_]+)[\"']", line)
                if not names or not set(names) <= set(ALLOWED_ENVIRON.get(rel, [])):
                    found.append(f"{rel}:{n}: {line.strip()}")
    assert found == []
