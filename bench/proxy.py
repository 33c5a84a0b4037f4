#!/usr/bin/env python
"""Benchmark of the service proxy (issue 3). Not a test: it prints latencies.

    .venv/bin/python bench/proxy.py [--requests 500]

A fake *arr upstream (X-Api-Key) over real local HTTP, and this project served as `make run` serves it
(uvicorn, homelab.asgi) in a child process on a throw-away SQLite database. Times REQUESTS calls of
GET /api/v3/system/status made directly to the upstream, and the same through
GET /api/services/<id>/proxy/?path=/api/v3/system/status (X-API-Key auth, the full middleware and DRF stack,
the stored key decrypted, the answer wrapped), in interleaved rounds. Prints both medians and the added
latency (target: under 5 ms). Both clients keep their connections alive. For scale it also times
GET /api/services/<id>/ (same auth, one row, no upstream), i.e. what the serving stack costs before the proxy
does anything; proxy - direct - that is the proxy's own share.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _django  # noqa: E402

UPSTREAM_KEY = "bench-arr-key-123"


def timed(session, url: str, n: int, headers) -> list[float]:
    out = []
    for _ in range(n):
        started = time.perf_counter()
        response = session.get(url, headers=headers)
        response.content
        out.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()
    data_dir = _django.setup()
    import requests
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from homelab.models import APIKey
    from integrations.models import Service
    from tests.fakes import FakeServer
    from tests.live import free_port

    call_command("migrate", verbosity=0)
    user = get_user_model().objects.create_superuser("bench", "bench@example.com", "bench-pass-123")
    _, raw_key = APIKey.generate(name="bench", user=user)

    upstream = FakeServer().start()
    upstream.route("GET", "/api/v3/system/status")(
        lambda call: (200, {"appName": "Sonarr", "version": "4.0.0", "branch": "main", "isDocker": True})
        if call.headers.get("x-api-key") == UPSTREAM_KEY else (401, {"error": "Unauthorized"}))
    service = Service.objects.create(name="sonarr", api_url=upstream.url, api_key=UPSTREAM_KEY,
                                     service_type="sonarr")

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "homelab.asgi:application", "--host", "127.0.0.1", "--port", str(port),
         "--log-level", "warning", "--no-access-log", "--lifespan", "off"],
        cwd=_django.ROOT, env=_django.environ(data_dir))
    app_url = f"http://127.0.0.1:{port}"
    try:
        direct_session, proxy_session = requests.Session(), requests.Session()
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(app_url + "/api/services/", timeout=1)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("the server did not start")
                time.sleep(0.1)
        direct_url = upstream.url + "/api/v3/system/status"
        proxy_url = f"{app_url}/api/services/{service.pk}/proxy/?path=/api/v3/system/status"
        auth, upstream_auth = {"X-API-Key": raw_key}, {"X-Api-Key": UPSTREAM_KEY}
        timed(direct_session, direct_url, 30, upstream_auth)  # warm-up
        timed(proxy_session, proxy_url, 30, auth)
        detail_url = f"{app_url}/api/services/{service.pk}/"
        timed(proxy_session, detail_url, 30, auth)
        direct, proxied, detail = [], [], []
        for _ in range(5):  # interleaved rounds, so drift hits all alike
            direct += timed(direct_session, direct_url, args.requests // 5, upstream_auth)
            proxied += timed(proxy_session, proxy_url, args.requests // 5, auth)
            detail += timed(proxy_session, detail_url, args.requests // 5, auth)
        answer = proxy_session.get(proxy_url, headers=auth).json()
        assert answer["success"] is True and answer["data"]["appName"] == "Sonarr"
    finally:
        server.terminate()
        server.wait(10)
        upstream.stop()
    d, p, b = statistics.median(direct), statistics.median(proxied), statistics.median(detail)
    print(f"requests: {len(direct)} direct, {len(proxied)} through the proxy (uvicorn, SQLite, X-API-Key auth)")
    print(f"direct median: {d:.2f} ms (p90 {statistics.quantiles(direct, n=10)[-1]:.2f} ms)")
    print(f"proxy median:  {p:.2f} ms (p90 {statistics.quantiles(proxied, n=10)[-1]:.2f} ms)")
    print(f"added latency (median): {p - d:.2f} ms (target < 5 ms: {'met' if p - d < 5 else 'NOT met'})")
    print(f"for scale, GET /api/services/<id>/ on the same stack (auth + one row, no upstream): {b:.2f} ms;")
    print(f"the proxy's own share (proxy - direct - that): {p - d - b:.2f} ms")


if __name__ == "__main__":
    main()
