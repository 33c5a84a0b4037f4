"""docker-compose.yml is checked without a Docker engine (CI uses `docker compose config -q` where it can)."""
from tests.check_compose import check
from tests.conftest import ROOT


def test_the_compose_file_has_the_stack_and_every_variable():
    assert check(str(ROOT / "docker-compose.yml"), str(ROOT / ".env.example")) == []


def test_it_catches_a_missing_service_and_variable(tmp_path):
    compose = tmp_path / "docker-compose.yml"
    compose.write_text("services:\n  web:\n    image: x\n    healthcheck: {test: [CMD, 'true']}\n    environment: {}\n")
    env = tmp_path / ".env.example"
    env.write_text("LOG_LEVEL=INFO\n")
    problems = check(str(compose), str(env))
    assert "service 'db' is missing" in problems
    assert "service 'web' does not pass LOG_LEVEL from .env.example" in problems


def test_every_environment_variable_the_code_reads_is_in_env_example():
    import re

    settings_text = (ROOT / "homelab" / "settings.py").read_text()
    read = set(re.findall(r'env\.(?:str|int|bool|float|list|db)\("([A-Z_]+)"', settings_text))
    read |= {"HOST", "PORT"}  # HOST and PORT: manage.py serve
    documented = set(re.findall(r"^([A-Z][A-Z0-9_]*)=", (ROOT / ".env.example").read_text(), re.M))
    assert read - documented == set()
    readme = (ROOT / "README.md").read_text()
    assert [name for name in sorted(read) if f"`{name}`" not in readme] == []


def test_the_settings_load_with_env_example_as_it_is(tmp_path):
    """Copying .env.example to .env must give the embedded defaults (empty values mean "unset")."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line and not line.startswith("#") and "=" in line:
            name, value = line.split("=", 1)
            env[name] = value
    env.update(HOMELAB_DATA_DIR=str(tmp_path), HOMELAB_ENCRYPTION_KEY_FILE=str(tmp_path / "k"),
               DJANGO_SETTINGS_MODULE="homelab.settings")
    code = ("import django; django.setup(); from django.conf import settings as s; "
            "print(s.DATABASES['default']['ENGINE'], s.EMBEDDED_REDIS, s.REDIS_URL, s.CELERY_BROKER_URL)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    engine, embedded, redis_url, broker = out.stdout.split()
    assert engine == "django.db.backends.sqlite3"
    assert embedded == "True"
    assert redis_url == f"unix://{tmp_path}/redis.sock?db=0"
    assert broker == f"redis+socket://{tmp_path}/redis.sock"
