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
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

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


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its children (uvicorn's workers; Linux /proc)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if stat.parent.name == str(pid) or fields[1] == str(pid):  # the process, or one whose parent it is
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", type=int, default=200_000)
    ap.add_argument("--requests", type=int, default=400, help="requests per kind (search, plain page)")
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--web-workers", type=int, default=1, help="uvicorn processes (WEB_WORKERS)")
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
         "--log-level", "warning", "--no-access-log", "--lifespan", "off",
         *(["--workers", str(args.web_workers)] if args.web_workers > 1 else [])], cwd=ROOT, env=os.environ.copy())
    local = threading.local()
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

        def one(i: int, search: bool) -> tuple[float, bytes]:
            # a plain keep-alive connection per client thread: the clients' own Python (requests costs ~1 ms a
            # call) should not take the 2 CPUs from the server it measures
            conn = getattr(local, "conn", None)
            if conn is None:
                conn = local.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            params = {"page": 1 + (i % 3), "page_size": 50}
            if search:
                params["search"] = TERMS[i % len(TERMS)]
            t0 = time.perf_counter()
            conn.request("GET", "/iptv/channels?" + urlencode(params), headers={"X-API-Key": key})
            r = conn.getresponse()
            body = r.read()
            ms = (time.perf_counter() - t0) * 1000
            assert r.status == 200, body[:300]
            return ms, body

        totals, cold = {}, []
        for term_i, term in enumerate(TERMS):  # each term once, alone: the first search of a term (no kept matches)
            ms, body = one(term_i, True)
            totals[term] = json.loads(body)["total"]
            cold.append(ms)
        results, cpu = {}, {}
        for label, search in (("search", True), ("page", False)):
            c0, s0 = time.process_time(), _cpu_seconds(server.pid)
            with ThreadPoolExecutor(args.clients) as pool:
                results[label] = [ms for ms, _ in pool.map(lambda i: one(i, search), range(args.requests))]
            cpu[label] = ((_cpu_seconds(server.pid) - s0) * 1000 / args.requests,
                          (time.process_time() - c0) * 1000 / args.requests)
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
        print(f"    CPU a request: the server {cpu[label][0]:.2f} ms, the clients {cpu[label][1]:.2f} ms")


if __name__ == "__main__":
    main()
