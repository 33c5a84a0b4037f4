"""`manage.py check --deploy`: HTTPS settings come from the environment, off by default for plain-HTTP LAN use."""
import os
import subprocess
import sys

from tests.conftest import ROOT

HTTPS_ENV = {
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_HSTS_PRELOAD": "true",
    "SECURE_SSL_REDIRECT": "true",
    "SESSION_COOKIE_SECURE": "true",
    "CSRF_COOKIE_SECURE": "true",
    "SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO,https",
}
HTTPS_WARNINGS = ("security.W004", "security.W008", "security.W012", "security.W016")


def check_deploy(tmp_path, extra: dict) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in HTTPS_ENV and k != "DJANGO_SETTINGS_MODULE"}
    env.update(HOMELAB_DATA_DIR=str(tmp_path), HOMELAB_ENCRYPTION_KEY_FILE=str(tmp_path / "key"),
               SECRET_KEY="x" * 20 + "a-long-random-secret-key-for-the-deploy-check-0123456789", **extra)
    return subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_the_https_settings_from_the_environment_pass_the_deploy_check(tmp_path):
    result = check_deploy(tmp_path, HTTPS_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert not any(code in result.stdout + result.stderr for code in HTTPS_WARNINGS)


def test_https_is_off_by_default_for_plain_http_on_a_lan(tmp_path):
    result = check_deploy(tmp_path, {})
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert all(code in output for code in HTTPS_WARNINGS), output


def test_the_https_redirect_spares_the_health_check(tmp_path):
    code = ("from django.conf import settings; print(settings.SECURE_PROXY_SSL_HEADER, settings.SECURE_REDIRECT_EXEMPT,"
            " settings.SECURE_HSTS_SECONDS, settings.SESSION_COOKIE_SECURE)")
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(HOMELAB_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="homelab.settings", **HTTPS_ENV)
    result = subprocess.run([sys.executable, "-c", "import django; django.setup(); " + code], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "('HTTP_X_FORWARDED_PROTO', 'https') ['^healthz$'] 31536000 True", result.stderr
