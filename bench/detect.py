#!/usr/bin/env python
"""Benchmark of API detection (issue 3). Not a test: it prints times and a ratio.

    .venv/bin/python bench/detect.py [--services 50] [--slow 6] [--delay 0.25]

Starts SERVICES fake services over real local HTTP with names the catalogue does not know, so each is probed
(they answer JSON at /api/status, the fifth of the 19 paths); SLOW of them take DELAY seconds per answer.
Detects them all sequentially, then with the bounded thread pool (API_DETECTION_CONCURRENCY), in the same
process, and prints concurrent / sequential wall time (target: at most 0.2).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _django  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--services", type=int, default=50)
    parser.add_argument("--slow", type=int, default=6)
    parser.add_argument("--delay", type=float, default=0.25)
    args = parser.parse_args()
    _django.setup()
    from django.conf import settings

    from integrations import detection
    from tests.fakes import FakeServer

    servers, specs = [], []
    for i in range(args.services):
        srv = FakeServer().start()
        slow = i < args.slow

        def status(call, slow=slow):
            if slow:
                time.sleep(args.delay)
            return 200, {"status": "ok"}

        def missing(call, slow=slow):
            if slow:
                time.sleep(args.delay)
            return 404, "not here", {"Content-Type": "text/html"}

        for path in ("/api", "/api/v1", "/api/v2", "/api/v3"):
            srv.route("GET", path)(missing)
        srv.route("GET", "/api/status")(status)
        servers.append(srv)
        specs.append(detection.ServiceSpec(pk=i, name=f"app-{i:02d}", url=srv.url))
    try:
        detection.detect_specs(specs[-2:], workers=1)  # warm-up (imports, first connections)
        started = time.perf_counter()
        sequential = detection.detect_specs(specs, workers=1)
        t_seq = time.perf_counter() - started
        started = time.perf_counter()
        concurrent = detection.detect_specs(specs)
        t_con = time.perf_counter() - started
    finally:
        for srv in servers:
            srv.stop()
    assert len(sequential) == len(concurrent) == len(specs)
    found = sum(1 for r in concurrent.values() if r["detected"])
    ratio = t_con / t_seq
    print(f"services: {args.services} ({args.slow} slow, {args.delay:.2f} s per answer), detected {found}")
    print(f"workers: {settings.API_DETECTION_CONCURRENCY}")
    print(f"sequential: {t_seq:.2f} s")
    print(f"concurrent: {t_con:.2f} s")
    print(f"ratio concurrent/sequential: {ratio:.3f} (target <= 0.2: {'met' if ratio <= 0.2 else 'NOT met'})")


if __name__ == "__main__":
    main()
