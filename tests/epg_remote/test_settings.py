"""The push-refresh's settings are Django settings, defined once in homelab/settings.py (django-environ)."""
import os
import subprocess
import sys

from tests.conftest import ROOT

NAMES = {"DISPATCHARR_TIMEOUT": 30.0, "DISPATCHARR_WAIT_TIMEOUT": 300.0, "DISPATCHARR_POLL_INTERVAL": 2.0,
         "DISPATCHARR_AUTH_FAILURE_LIMIT": 3}


def read_settings(**env) -> dict:
    code = f"import json, homelab.settings as s; print(json.dumps({{n: getattr(s, n) for n in {sorted(NAMES)!r}}}))"
    full = {k: v for k, v in os.environ.items() if not k.startswith("DISPATCHARR_")}
    full.update(env)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=full, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    import json

    return json.loads(out.stdout)


def test_homelab_settings_define_them_with_defaults_the_environment_overrides():
    values = read_settings(DISPATCHARR_WAIT_TIMEOUT="45", DISPATCHARR_AUTH_FAILURE_LIMIT="5")
    assert values == {**NAMES, "DISPATCHARR_WAIT_TIMEOUT": 45.0, "DISPATCHARR_AUTH_FAILURE_LIMIT": 5}


def test_no_module_of_the_app_reads_the_environment():
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "epg" / "remote").rglob("*.py")
                 if "os.environ" in p.read_text() or "getattr(settings" in p.read_text()]
    assert offenders == []
