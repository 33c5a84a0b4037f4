"""Writes that span rows or systems: Traefik sync, API detection, connection tests."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from . import catalogue, detection, docker, traefik
from .client import APIError, GenericAPIClient
from .models import Service, unique_slug

logger = logging.getLogger("integrations.services")


@dataclass
class SyncSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    gone: int = 0
    detected: int = 0
    docker_error: str = ""

    def line(self) -> str:
        return (f"created {self.created}, updated {self.updated}, unchanged {self.unchanged}, gone {self.gone}, "
                f"detected {self.detected}")


def traefik_client(url: str | None = None) -> GenericAPIClient:
    url = url or settings.TRAEFIK_API_URL
    if not url:
        raise traefik.TraefikError("TRAEFIK_API_URL is not set")
    url = url.rstrip("/")
    if url.endswith("/api"):  # given as Traefik's API root: the endpoints are paths under the server root
        url = url[:-len("/api")]
    try:
        return traefik.client(url, settings.TRAEFIK_API_USERNAME, settings.TRAEFIK_API_PASSWORD,
                              settings.TRAEFIK_VERIFY_SSL)
    except APIError as exc:
        raise traefik.TraefikError(str(exc)) from None


def _labels_for(route: traefik.Route, by_name: dict) -> dict:
    short = route.name.lower()
    service_short = route.service.rsplit("@", 1)[0].lower()
    return by_name.get(short) or by_name.get(service_short) or {}


def sync_traefik(*, url: str | None = None, docker_host: str | None = None, detect: bool = True,
                 progress=None) -> SyncSummary:
    """Upsert a Service per Traefik router (idempotent), mark vanished routers as not seen (keeping the row
    and its credentials), then detect APIs of changed or stale services. Raises traefik.TraefikError."""
    routes = traefik.fetch(traefik_client(url), per_page=settings.TRAEFIK_PAGE_SIZE)
    docker_host = settings.DOCKER_HOST if docker_host is None else docker_host
    summary = SyncSummary()
    labels = {}
    if docker_host:
        try:
            labels = docker.labels_by_name(docker_host)
        except docker.DockerError as exc:
            summary.docker_error = str(exc)
            logger.warning("Docker labels skipped: %s", exc)

    now = timezone.now()
    seen_routers = set()
    with transaction.atomic():
        existing = {s.traefik_router: s for s in Service.objects.filter(source=Service.Source.TRAEFIK)}
        taken = set(Service.objects.values_list("name", flat=True))
        for route in routes:
            seen_routers.add(route.router)
            values = {
                "url": route.url,
                "traefik_service": route.service,
                "entry_points": route.entry_points,
                "host_rule": route.rule,
            }
            if not summary.docker_error:  # Docker unreachable now: keep the labels read before
                values["labels"] = _labels_for(route, labels)
            service = existing.get(route.router)
            if service is None:
                name, n = route.name, 1
                while name in taken:  # a manual service or another provider's router has the name
                    name = f"{route.name}-{route.provider}" + (f"-{n}" if n > 1 else "")
                    n += 1
                taken.add(name)
                service = Service(name=name, slug=unique_slug(name), source=Service.Source.TRAEFIK,
                                  traefik_router=route.router, api_url=route.api_url, seen=True, last_seen=now,
                                  service_type=catalogue.match_name(route.name, route.service) or "", **values)
                service.save()
                summary.created += 1
                continue
            changed = [f for f, v in values.items() if getattr(service, f) != v]
            # the API URL is editable: once edited by hand (locked), sync leaves it alone
            if service.api_url != route.api_url and not service.api_url_locked:
                changed.append("api_url")
                values["api_url"] = route.api_url
            if not service.seen:
                changed.append("seen")
                values["seen"] = True
            for f in changed:
                setattr(service, f, values[f])
            if {"url", "api_url", "labels"} & set(changed):
                service.api_detected_at = None  # re-detect what moved
                changed.append("api_detected_at")
            service.last_seen = now
            service.save(update_fields=[*changed, "last_seen", "updated_at"] if changed else ["last_seen"])
            if changed:
                summary.updated += 1
            else:
                summary.unchanged += 1
        gone = [s.pk for r, s in existing.items() if r not in seen_routers and s.seen]
        summary.gone = Service.objects.filter(pk__in=gone).update(seen=False)

    if detect:
        targets = [s for s in Service.objects.filter(source=Service.Source.TRAEFIK, seen=True, enabled=True)
                   if detection.is_stale(s)]
        results = detect_services(targets, progress=progress)
        summary.detected = sum(1 for r in results.values() if r["detected"])
    return summary


def detect_services(services, *, force: bool = False, progress=None, workers: int | None = None) -> dict:
    """Detect APIs of the given services concurrently (stale ones only unless force); results written to
    the rows. ``{pk: result}``."""
    services = [s for s in services if force or detection.is_stale(s)]
    specs = [detection.ServiceSpec.of(s) for s in services]
    results = detection.detect_specs(specs, workers=workers, on_done=progress)
    by_pk = {s.pk: s for s in services}
    for pk, result in results.items():
        service = by_pk[pk]
        if service.api_detected and (result.get("evidence") or {}).get("unreachable"):
            # down now (a restart, a network blip): keep what was detected; the row stays stale, so the next
            # sync or weekly run tries again
            logger.warning("%s is unreachable: keeping the API detected on %s", service.name,
                           service.api_detected_at)
            continue
        service.record_detection(result)
        service.save(update_fields=Service.DETECTION_FIELDS)
    return results


def detect_service(service: Service, *, force: bool = True) -> dict:
    """Re-detect one service now (the "Re-detect API" action and POST /api/services/<id>/detect/)."""
    results = detect_services([service], force=force, workers=1)
    return results.get(service.pk) or {"detected": service.api_detected}


def health_path(service: Service) -> str:
    entry = catalogue.lookup(service.service_type) or {}
    if entry.get("health_path"):
        return entry["health_path"]
    answered = (service.api_evidence or {}).get("answered")
    return answered or service.api_base_path or "/"


def test_connection(service: Service) -> dict:
    """Authenticate with the stored credentials and GET the health path (the catalogue's ``test_path`` where the
    health path answers without credentials, so a wrong key cannot test OK). Never raises for the remote's errors."""
    path = (catalogue.lookup(service.service_type) or {}).get("test_path") or health_path(service)
    started = time.monotonic()
    try:
        client = GenericAPIClient.for_service(service)
        response = client.request("GET", path, raw=True)
        ok = response.status_code < 400
        result = {"ok": ok, "status": response.status_code, "path": path, "auth_type": client.auth_type}
        if not ok:
            result["error"] = f"HTTP {response.status_code}"
        response.close()
    except APIError as exc:
        from .proxy import tls_hint

        result = {"ok": False, "status": exc.status, "path": path, "error": str(exc) + tls_hint(service, exc)}
    result["elapsed_ms"] = round((time.monotonic() - started) * 1000)
    return result
