"""API detection: labels, then the built-in catalogue, then probing common paths.

``detect(spec)`` works on a plain ``ServiceSpec`` (no database access), so many services can be probed
concurrently in threads; ``detect_services`` runs a bounded thread pool and writes the results onto the rows.
Results are kept on the row (``api_detected_at``) for ``API_DETECTION_CACHE_SECONDS`` (7 days); ``force``
re-detects anyway.
"""
from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from . import catalogue
from .client import APIError, GenericAPIClient

logger = logging.getLogger("integrations.detection")

_VERSIONED = ("/api/v1", "/api/v2", "/api/v3", "/api/v4", "/api")


@dataclass
class ServiceSpec:
    """What detection needs to know of a service, detached from the database."""

    pk: int | None
    name: str
    url: str
    slug: str = ""
    router: str = ""
    service_type: str = ""
    labels: dict = field(default_factory=dict)
    verify_ssl: bool = True

    @classmethod
    def of(cls, service) -> "ServiceSpec":
        return cls(pk=service.pk, name=service.name, url=service.target_url, slug=service.slug,
                   router=service.traefik_router, service_type=service.service_type,
                   labels=dict(service.labels or {}), verify_ssl=service.verify_ssl)


def _result(detected: bool, method: str, *, base_path="", auth_type="", service_type="", evidence=None) -> dict:
    return {"detected": detected, "method": method, "base_path": base_path, "auth_type": auth_type,
            "service_type": service_type, "evidence": {"method": method, **(evidence or {})}}


def _is_api(response) -> bool:
    content_type = (response.headers.get("Content-Type") or "").lower()
    if response.status_code in (401, 403):
        return "html" not in content_type
    if response.status_code >= 400 and response.status_code != 405:
        return False
    if "json" in content_type:
        return True
    text = response.text.lstrip()[:1]
    if text in ("{", "["):
        try:
            response.json()
            return True
        except ValueError:
            return False
    return False


def _auth_hint(response) -> str:
    challenge = (response.headers.get("WWW-Authenticate") or "").lower()
    if challenge.startswith("basic"):
        return "basic"
    if challenge.startswith("bearer"):
        return "bearer"
    return ""


def probe(client: GenericAPIClient, paths, *, stop_at_first: bool = True) -> tuple[list[dict], dict | None]:
    """GET each path; returns (every probe's record, the first that answered like an API). An unreachable host
    or a timeout ends probing at once: the other paths would fail the same way."""
    records, hit = [], None
    for path in paths:
        started = time.monotonic()
        try:
            response = client.get(path, raw=True)
        except APIError as exc:
            records.append({"path": path, "error": "timeout" if exc.timeout else "unreachable",
                            "ms": round((time.monotonic() - started) * 1000)})
            break
        record = {"path": path, "status": response.status_code,
                  "content_type": (response.headers.get("Content-Type") or "").split(";")[0],
                  "ms": round((time.monotonic() - started) * 1000)}
        record["api"] = _is_api(response)
        hint = _auth_hint(response)
        if hint:
            record["auth"] = hint
        response.close()
        records.append(record)
        if record["api"] and hit is None:
            hit = record
            if stop_at_first:
                break
    return records, hit


def _base_path_of(path: str) -> str:
    for prefix in _VERSIONED:
        if path == prefix or path.startswith(prefix + "/"):
            return prefix
    return path


def _probe_client(spec: ServiceSpec) -> GenericAPIClient:
    t = settings.API_PROBE_TIMEOUT
    return GenericAPIClient(spec.url, auth_type="none", verify=spec.verify_ssl, timeout=(t, t), retries=0)


def detect(spec: ServiceSpec) -> dict:
    """Detect the API of one service. Never raises for network trouble: that is a result too."""
    labels = {k.lower(): v for k, v in (spec.labels or {}).items()}
    enabled = str(labels.get("enabled", "")).strip().lower()
    if enabled in ("false", "0", "no"):
        return _result(False, "labels", evidence={"labels": labels})
    if enabled in ("true", "1", "yes"):
        stype = catalogue.lookup(labels.get("type", "")) or {}
        return _result(True, "labels", base_path=labels.get("endpoint") or stype.get("base_path") or "/api",
                       auth_type=stype.get("auth_type", ""), service_type=stype.get("type", ""),
                       evidence={"labels": labels})
    if not spec.url:
        return _result(False, "none", evidence={"reason": "no URL to probe"})

    # a homelab.api.type label names the entry even without homelab.api.enabled=true
    key = catalogue.match_name(labels.get("type", ""), spec.service_type, spec.name, spec.slug, spec.router,
                               spec.url.split("//", 1)[-1].split(".", 1)[0])
    try:
        client = _probe_client(spec)
    except APIError as exc:
        return _result(False, "none", evidence={"reason": str(exc)})
    if key:
        entry = catalogue.CATALOGUE[key]
        paths = [entry["health_path"]] if entry.get("health_path") else []
        records, _ = probe(client, paths) if paths else ([], None)
        return _result(True, "catalogue", base_path=labels.get("endpoint") or entry.get("base_path", ""),
                       auth_type=entry.get("auth_type", ""),
                       service_type=key, evidence={"matched": key, "probes": records})

    records, hit = probe(client, catalogue.PROBE_PATHS)
    if hit is None:
        # probing stops at a transport error: the host was down, which says nothing about its API
        unreachable = bool(records) and "error" in records[-1]
        return _result(False, "probe", evidence={"probes": records, "unreachable": unreachable})
    auth = hit.get("auth", "")
    if not auth and hit.get("status") == 200:
        auth = "none"
    return _result(True, "probe", base_path=_base_path_of(hit["path"]), auth_type=auth,
                   evidence={"probes": records, "answered": hit["path"]})


def is_stale(service, now=None) -> bool:
    if service.api_detected_at is None:
        return True
    now = now or timezone.now()
    return service.api_detected_at < now - timedelta(seconds=settings.API_DETECTION_CACHE_SECONDS)


def detect_specs(specs: list[ServiceSpec], *, workers: int | None = None, on_done=None) -> dict:
    """Detect many services at once with at most ``workers`` threads; ``{pk: result}``. ``on_done(spec, result)``
    is called as each finishes (progress bars)."""
    workers = max(1, min(workers or settings.API_DETECTION_CONCURRENCY, len(specs) or 1))
    results = {}
    if workers == 1:
        for spec in specs:
            results[spec.pk] = detect(spec)
            if on_done:
                on_done(spec, results[spec.pk])
        return results
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="detect") as pool:
        futures = {pool.submit(detect, spec): spec for spec in specs}
        for future in as_completed(futures):
            spec = futures[future]
            try:
                results[spec.pk] = future.result()
            except Exception as exc:  # a bug must not lose the other results
                logger.exception("Detection of %s failed", spec.name)
                results[spec.pk] = _result(False, "none", evidence={"reason": f"error: {type(exc).__name__}"})
            if on_done:
                on_done(spec, results[spec.pk])
    return results
