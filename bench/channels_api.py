#!/usr/bin/env python
"""Benchmark of GET /iptv/channels with ``search`` at 200,000 channels (issue 11). Not a test: it prints latencies.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/homelab_a_channels_bench .venv/bin/python bench/channels_api.py
    .venv/bin/python bench/channels_api.py          # SQLite (a throw-away file)

Loads a catalogue of ENTRIES generated entries (bench/m3u_import.py's generator) through the real catalogue
writer, serves the project as `make run` does (uvicorn, homelab.asgi) in a child process, and times
GET /iptv/channels?page=1&page_size=50&search=<term> from 8 concurrent clients (X-API-Key, keep-alive), over a
mix of terms (common words, accented and non-Latin text, rare names, no match). Prints p50 / p95 (PostgreSQL
target: p95 < 50 ms). The total of a search is cached until a catalogue changes, so it prints apart the first
search of each term (the count computed) and the concurrent run (pages of searches already counted). For scale it also times the same without ``search`` (the page alone).
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

TERMS = ["sport", "bbc", "news 12", "cinema", "ελληνικη", "ニュース", "kids", "serie", "drama s03", "action 1234",
         "télé", "zzz-no-match", "premium classic", "uk | news", "film 19"]


def environ(data_dir: str) -> dict:
    env = {**os.environ, "HOMELAB_DATA_DIR": data_dir,
           "HOMELAB_ENCRYPTION_KEY_FILE": os.path.join(data_dir, "encryption.key"),
           "REDIS_URL": os.environ.get("REDIS_URL") or "redis://127.0.0.1:1/0",
           "DJANGO_SETTINGS_MODULE": "_settings", "LOG_LEVEL": "WARNING", "WEB_THREADS": "16",
           "PYTHONPATH": os.pathsep.join([str(ROOT), str(BENCH), os.environ.get("PYTHONPATH", "")])}
    return env


def load(entries: int, data_dir: str) -> None:
    from django.db import transaction

    from channels import catalogue, parsers
    from channels.models import Channel, Provider
    from m3u_import import generate

    Channel.objects.all()._raw_delete(Channel.objects.db)
    Provider.objects.all().delete()
    provider = Provider.objects.create(name="bench", source_type="file", channel_count=entries)
    path = Path(data_dir) / "bench.m3u"
    generate(path, entries)
    guide = catalogue.GuideIndex()
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as spool, parsers.open_playlist(path) as fh:
        differ = catalogue.Differ(provider.pk, spool)
        for i, e in enumerate(parsers.iter_playlist(fh)):
            differ.add(catalogue.build_row(provider.pk, i, e, None, guide))
        gone = differ.finish()
        with transaction.atomic():
            catalogue.apply(provider.pk, spool, gone)
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("VACUUM ANALYZE channels_channel")
    else:
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
    print(f"loaded {Channel.objects.count()} channels in {time.perf_counter() - t0:.1f} s")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", type=int, default=200_000)
    ap.add_argument("--requests", type=int, default=400, help="requests per kind (search, plain page)")
    ap.add_argument("--clients", type=int, default=8)
    args = ap.parse_args()
    data_dir = tempfile.mkdtemp(prefix="homelab-bench-api-")
    os.environ.update(environ(data_dir))
    from m3u_import import ensure_database

    ensure_database()
    import django

    django.setup()
    import requests
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    from homelab.models import APIKey
    from tests.live import free_port

    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor} ({connection.settings_dict['NAME']}); load average: "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    load(args.entries, data_dir)
    user = get_user_model().objects.filter(username="bench").first() or \
        get_user_model().objects.create_superuser("bench", "bench@example.com", "bench-pass-123")
    _, key = APIKey.generate(name="bench", user=user)
    connection.close()

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "homelab.asgi:application", "--host", "127.0.0.1", "--port", str(port),
         "--log-level", "warning", "--no-access-log", "--lifespan", "off"], cwd=ROOT, env=os.environ.copy())
    base = f"http://127.0.0.1:{port}/iptv/channels"
    sessions = [requests.Session() for _ in range(args.clients)]
    for s in sessions:
        s.headers["X-API-Key"] = key
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"http://127.0.0.1:{port}/iptv/health", timeout=1)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("the server did not start")
                time.sleep(0.2)

        def one(i: int, search: bool) -> tuple[float, int]:
            s = sessions[i % len(sessions)]
            params = {"page": 1 + (i % 3), "page_size": 50}
            if search:
                params["search"] = TERMS[i % len(TERMS)]
            t0 = time.perf_counter()
            r = s.get(base, params=params, timeout=30)
            body = r.json()
            assert r.status_code == 200, r.text
            return (time.perf_counter() - t0) * 1000, body["total"]

        totals, cold = {}, []
        for term_i, term in enumerate(TERMS):  # each term once, alone: the first search of a term (no cached count)
            ms, totals[term] = one(term_i, True)
            cold.append(ms)
        results = {}
        for label, search in (("search", True), ("page", False)):
            with ThreadPoolExecutor(args.clients) as pool:
                results[label] = [ms for ms, _ in pool.map(lambda i: one(i, search), range(args.requests))]
    finally:
        server.terminate()
        server.wait(10)
    print("matches per term: " + ", ".join(f"{t!r}: {n}" for t, n in totals.items()))
    print(f"first search of each term (one client, its matches computed): p50 {statistics.median(cold):.1f} ms, "
          f"max {max(cold):.1f} ms; " + ", ".join(f"{t!r}: {ms:.1f}" for t, ms in zip(TERMS, cold)))
    for label, values in results.items():
        q = statistics.quantiles(values, n=100)
        print(f"GET /iptv/channels ({label}{', ' + str(len(TERMS)) + ' terms' if label == 'search' else ''}), "
              f"{args.clients} clients, {len(values)} requests at {args.entries} channels: p50 "
              f"{statistics.median(values):.1f} ms, p95 {q[94]:.1f} ms" +
              (" (PostgreSQL target p95 < 50 ms)" if label == "search" else ""))


if __name__ == "__main__":
    main()
