#!/usr/bin/env python
"""Benchmark of a channel catalogue refresh (issue 11). Not a test: it prints numbers and ratios.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/homelab_a_channels_bench REDIS_URL=redis://127.0.0.1:6379/0 \
        .venv/bin/python bench/m3u_import.py [--entries 200000]

1. generates an Xtream-style M3U Plus playlist of ENTRIES entries (live, movies, series episodes; tvg-id,
   tvg-name, logo, group; some accented and non-Latin names), and one of a quarter of the size;
2. baseline: a bare regex line loop over the same file (each #EXTINF matched and its attributes found, nothing
   else), best of two;
3. refreshes a provider from it through the real Celery task (``channels.refresh_provider``, run in a fresh child
   process as the worker would run it), the playlist downloaded over local HTTP through ``homelab.http``:
   once into an empty catalogue (first refresh), then again with the same playlist (repeat refresh); prints
   each wall time divided by the baseline (target <= 5 on PostgreSQL) and the child's peak RSS (target
   < 150 MB, flat from the quarter size to the full size).

The database named in DATABASE_URL is created if missing, migrated, and its channels tables emptied: use a
database of its own. Without DATABASE_URL it runs on a throw-away SQLite file.
"""
from __future__ import annotations

import argparse
import functools
import http.server
import json
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORDS = ("news sport live world cinema film kids music drama comedy action nature history science "
         "documentary travel kitchen crime mystery family classic premium").split()
ACCENTED = ("Télé", "Película", "Ελληνική", "Ñandú", "Çocuk", "Spor", "Kino", "Série", "日本", "ニュース")


def generate(path: Path, entries: int, seed: int = 11) -> int:
    rnd = random.Random(seed)
    base = "http://panel.bench:8080"
    with open(path, "w", encoding="utf-8") as fh:
        fh.write('#EXTM3U x-tvg-url="http://guide.bench/epg.xml.gz"\n')
        for i in range(entries):
            kind = "live" if i % 10 == 0 else ("movie" if i % 10 < 7 else "series")
            word = rnd.choice(WORDS).title()
            extra = rnd.choice(ACCENTED) if i % 7 == 0 else rnd.choice(WORDS)
            if kind == "live":
                name = f"{word} {extra} {i} HD"
                group = f"{rnd.choice(('UK', 'US', 'DE', 'FR', 'GR', 'JP'))} | {word}"
                url = f"{base}/bench/pass123/{i}"
                tvg = f"{word.lower()}{i}.bench"
            elif kind == "movie":
                name = f"{word} {extra} {i} ({1950 + i % 75})"
                group = f"VOD | {word}"
                url = f"{base}/movie/bench/pass123/{i}.mkv"
                tvg = ""
            else:
                name = f"{word} {extra} S{i % 12 + 1:02d}E{i % 30 + 1:02d}"
                group = f"Series | {word}"
                url = f"{base}/series/bench/pass123/{i}.mp4"
                tvg = ""
            fh.write(f'#EXTINF:-1 tvg-id="{tvg}" tvg-name="{name}" tvg-logo="http://logos.bench/{i}.png" '
                     f'group-title="{group}",{name}\n{url}\n')
    return entries


_EXTINF = re.compile(r"#EXTINF:(-?\d+)(.*?),(.*)$")
_ATTR = re.compile(r'([\w-]+)="([^"]*)"')


def baseline(path: Path) -> tuple[float, float]:
    """(wall, CPU) seconds of a bare regex line loop: every #EXTINF matched and its attributes found."""
    t0, c0 = time.perf_counter(), time.process_time()
    n = 0
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("#EXTINF"):
                m = _EXTINF.match(line)
                if m:
                    _ATTR.findall(m.group(2))
                    n += 1
    return time.perf_counter() - t0, time.process_time() - c0


def serve(folder: str) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=folder)
    handler.log_message = lambda *a, **k: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}"


def _setup_django(data_dir: str):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "homelab.settings")
    os.environ["HOMELAB_DATA_DIR"] = data_dir
    os.environ.setdefault("HOMELAB_ENCRYPTION_KEY_FILE", os.path.join(data_dir, "encryption.key"))
    import django

    django.setup()


def child_refresh(data_dir: str, provider_id: int) -> None:
    """Runs in a fresh process: the refresh task, as the worker runs it; prints JSON with timings and RSS."""
    _setup_django(data_dir)
    from channels import services, tasks
    from channels.models import Provider

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    token = services.claim_refresh(provider_id)
    t0, cpu0 = time.perf_counter(), time.process_time()
    result = tasks.refresh_provider.apply(args=(provider_id, token))
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    provider = Provider.objects.get(pk=provider_id)
    print(json.dumps({"status": result.result, "message": provider.last_message, "seconds": elapsed,
                      "read_seconds": services.LAST_TIMINGS.get("read"), "save_seconds": services.LAST_TIMINGS.get("save"),
                      "cpu_seconds": cpu,
                      "channels": provider.channel_count, "rss_before_kb": rss_before,
                      "rss_peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))


def run_child(data_dir: str, provider_id: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", str(provider_id), "--data-dir", data_dir],
                         capture_output=True, text=True, env=os.environ, cwd=ROOT)
    if out.returncode != 0:
        sys.exit(f"refresh child failed:\n{out.stderr[-3000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if result["status"] != "success":
        sys.exit(f"refresh failed: {result['message']}")
    return result


def ensure_database():
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        return
    import psycopg

    dbname = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname]).fetchone():
            conn.execute(f'CREATE DATABASE "{dbname}"')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", type=int, default=200_000)
    ap.add_argument("--child", type=int)
    ap.add_argument("--data-dir")
    args = ap.parse_args()
    if args.child:
        return child_refresh(args.data_dir, args.child)

    data_dir = tempfile.mkdtemp(prefix="homelab-bench-m3u-")
    os.environ["HOMELAB_DATA_DIR"] = data_dir
    os.environ["LOG_LEVEL"] = "WARNING"
    ensure_database()
    _setup_django(data_dir)
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from channels.models import Channel, Provider
    from integrations.models import Service

    Channel.objects.all()._raw_delete(Channel.objects.db)
    Provider.objects.all().delete()
    Service.objects.filter(name__startswith="bench-m3u-").delete()
    print(f"database: {connection.vendor} ({connection.settings_dict['NAME']}); load average before: "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    files = Path(data_dir) / "www"
    files.mkdir()
    httpd, url = serve(str(files))
    results = {}
    for label, entries in (("quarter", args.entries // 4), ("full", args.entries)):
        path = files / f"{label}.m3u"
        t0 = time.perf_counter()
        generate(path, entries)
        print(f"\n[{label}] generated {entries} entries, {path.stat().st_size / 1e6:.0f} MB in "
              f"{time.perf_counter() - t0:.1f} s")
        base, base_cpu = min(baseline(path) for _ in range(2))
        service = Service.objects.create(name=f"bench-m3u-{label}", service_type="m3u", api_url=f"{url}/{path.name}")
        provider = Provider.objects.create(name=f"bench-{label}", source_type="m3u", service=service)
        first = run_child(data_dir, provider.pk)
        repeat = run_child(data_dir, provider.pk)
        results[label] = {"first": first, "repeat": repeat}
        print(f"[{label}] baseline (regex line loop): {base:.2f} s wall, {base_cpu:.2f} s CPU")
        for name, r in (("first", first), ("repeat", repeat)):
            print(f"[{label}] {name} refresh: {r['seconds']:.2f} s, ratio {r['seconds'] / base:.2f} (target <= 5); "
                  f"{r['channels']} channels; {r['message']}")
            print(f"[{label}] {name} refresh: read and compared in {r['read_seconds']:.2f} s, saved in "
                  f"{r['save_seconds']:.2f} s; the task used {r['cpu_seconds']:.2f} s of CPU, ratio "
                  f"{r['cpu_seconds'] / base_cpu:.2f} to the baseline's CPU (PostgreSQL's own work not counted)")
            print(f"[{label}] {name} refresh process RSS: {r['rss_before_kb'] / 1024:.0f} MB after start-up, peak "
                  f"{r['rss_peak_kb'] / 1024:.0f} MB (target < 150 MB)")
        Channel.objects.filter(provider=provider)._raw_delete(Channel.objects.db)
        provider.delete()
        service.delete()
    peak = {k: max(v["first"]["rss_peak_kb"], v["repeat"]["rss_peak_kb"]) for k, v in results.items()}
    print(f"\npeak RSS full / quarter size: {peak['full'] / peak['quarter']:.2f} (flat = about 1.0)")
    httpd.shutdown()


if __name__ == "__main__":
    main()
