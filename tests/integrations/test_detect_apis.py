"""API detection: labels, catalogue, probing, the 7-day cache, concurrency, the command and the beat row."""
import io
import threading
import time

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from integrations import detection, services
from integrations.catalogue import CATALOGUE, PROBE_PATHS, match_name
from integrations.models import Service

pytestmark = pytest.mark.django_db

GUIDE_NAMES = ("portainer qbittorrent sonarr radarr prowlarr lidarr readarr bazarr sabnzbd nzbget transmission deluge "
               "jellyfin plex emby tautulli overseerr requestrr ombi calibre-web paperless nextcloud syncthing gitea "
               "drone jenkins gitlab grafana prometheus heimdall organizr traefik dispatcharr wizarr").split()


def test_the_catalogue_covers_the_guide():
    assert len(CATALOGUE) >= 30
    for name in GUIDE_NAMES:
        entry = CATALOGUE[name]
        assert {"base_path", "auth_type", "health_path"} <= set(entry), name
    assert len(PROBE_PATHS) == 19
    assert PROBE_PATHS[:9] == ("/api", "/api/v1", "/api/v2", "/api/v3", "/api/status", "/api/system/status",
                               "/api/health", "/api/version", "/api/ping")


@pytest.mark.parametrize("name,key", [("sonarr", "sonarr"), ("Sonarr-4K", "sonarr"), ("qbittorrent@docker", "qbittorrent"),
                                      ("calibre-web", "calibre-web"), ("my-plex", "plex"), ("whoami", None)])
def test_names_match_the_catalogue(name, key):
    assert match_name(name) == key


def make(name, url, **kw):
    return Service.objects.create(name=name, url=url, **kw)


def test_labels_come_first(fake_server):
    srv = fake_server()
    service = make("whatever", srv.url, labels={"enabled": "true", "type": "radarr", "endpoint": "/api/v3"})
    result = services.detect_service(service)
    assert result["method"] == "labels" and result["base_path"] == "/api/v3" and result["auth_type"] == "api_key"
    assert srv.calls == []  # labels need no probing
    service.refresh_from_db()
    assert service.api_detected and service.service_type == "radarr" and service.api_detected_at


def test_labels_can_say_no(fake_server):
    service = make("sonarr", fake_server().url, labels={"enabled": "false"})
    assert services.detect_service(service)["detected"] is False


def test_catalogue_match_probes_the_health_path(fake_server):
    srv = fake_server()

    @srv.route("GET", "/api/v3/system/status")
    def status(call):
        return 401, {"error": "Unauthorized"}

    service = make("sonarr", srv.url)
    result = services.detect_service(service)
    assert result["method"] == "catalogue" and result["auth_type"] == "api_key" and result["base_path"] == "/api/v3"
    assert result["evidence"]["probes"][0]["path"] == "/api/v3/system/status"
    assert result["evidence"]["probes"][0]["api"] is True
    assert "x-api-key" not in srv.calls[0].headers  # probes send no credentials


def test_probing_finds_json(fake_server):
    srv = fake_server()

    @srv.route("GET", "/api/health")
    def health(call):
        return 200, {"status": "ok"}

    result = services.detect_service(make("mystery-app", srv.url))
    assert result["method"] == "probe" and result["base_path"] == "/api"
    assert result["evidence"]["answered"] == "/api/health"
    assert [c.path for c in srv.calls] == list(PROBE_PATHS[:PROBE_PATHS.index("/api/health") + 1])


def test_a_401_from_an_api_counts_and_html_does_not(fake_server):
    srv = fake_server()

    @srv.route("GET", "/api")
    def html(call):
        return 200, "<html>login page</html>", {"Content-Type": "text/html"}

    @srv.route("GET", "/api/v1")
    def v1(call):
        return 401, "", {"WWW-Authenticate": 'Basic realm="api"'}

    result = services.detect_service(make("mystery-app", srv.url))
    assert result["base_path"] == "/api/v1" and result["auth_type"] == "basic"


def test_no_api_is_a_result_too(fake_server):
    srv = fake_server()
    result = services.detect_service(make("plain-site", srv.url))
    assert result["detected"] is False and len(srv.calls) == 19


def test_an_unreachable_host_stops_probing_at_once():
    result = services.detect_service(make("gone-app", "http://127.0.0.1:9"))
    assert result["detected"] is False and len(result["evidence"]["probes"]) == 1


def test_results_are_cached_for_seven_days_unless_forced(fake_server):
    srv = fake_server()
    service = make("mystery-app", srv.url)
    services.detect_services([service])
    calls = len(srv.calls)
    services.detect_services([service])
    assert len(srv.calls) == calls
    Service.objects.filter(pk=service.pk).update(api_detected_at=timezone.now() - timezone.timedelta(days=8))
    services.detect_services([Service.objects.get(pk=service.pk)])
    assert len(srv.calls) == 2 * calls
    services.detect_services([Service.objects.get(pk=service.pk)], force=True)
    assert len(srv.calls) == 3 * calls


def test_the_command_force_and_service(fake_server):
    srv = fake_server()
    make("mystery-app", srv.url)
    make("other-app", fake_server().url)
    out = io.StringIO()
    call_command("detect_apis", "--service", "mystery-app", stdout=out)
    assert out.getvalue().strip() == "checked 1, detected 0, cached 0"
    out = io.StringIO()
    call_command("detect_apis", stdout=out)
    assert out.getvalue().strip() == "checked 1, detected 0, cached 1"
    out = io.StringIO()
    call_command("detect_apis", "--force", stdout=out)
    assert out.getvalue().strip() == "checked 2, detected 0, cached 0"


def test_one_slow_host_does_not_hold_up_the_rest(fake_server, settings):
    settings.API_PROBE_TIMEOUT = 5
    release = threading.Event()
    slow = fake_server()

    @slow.route("GET", "/api")
    def hang(call):
        release.wait(5)
        return 200, {"ok": True}

    fast = []
    for i in range(6):
        srv = fake_server()
        srv.route("GET", "/api")(lambda call: (200, {"ok": True}))
        fast.append(make(f"fast-{i}", srv.url))
    specs = [detection.ServiceSpec.of(s) for s in [make("slow-app", slow.url), *fast]]
    finished = []
    started = time.monotonic()
    worker = threading.Thread(target=lambda: detection.detect_specs(
        specs, workers=4, on_done=lambda spec, r: finished.append((spec.name, time.monotonic() - started))))
    worker.start()
    try:
        deadline = time.monotonic() + 5
        while len(finished) < 6 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert sorted(n for n, _ in finished) == sorted(s.name for s in fast)  # all fast done, slow still pending
    finally:
        release.set()
        worker.join()


def test_the_weekly_beat_row_exists():
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="integrations.redetect_stale")
    assert task.enabled and task.crontab.day_of_week == "0"


def test_the_weekly_task_redetects_stale_rows(fake_server):
    from integrations.tasks import redetect_stale

    srv = fake_server()
    srv.route("GET", "/api")(lambda call: (200, {"ok": True}))
    make("mystery-app", srv.url)
    assert redetect_stale() == {"checked": 1, "detected": 1}
    assert redetect_stale() == {"checked": 0, "detected": 0}


def test_sync_detects_changed_services(fake_server, settings):
    from tests.integrations.faketraefik import FakeTraefik

    app = fake_server()
    app.route("GET", "/api/v3/system/status")(lambda call: (401, {"error": "Unauthorized"}))
    data = {"routers": [{"name": "sonarr@docker", "provider": "docker", "service": "sonarr",
                         "rule": "Host(`sonarr.home.lan`)", "entryPoints": ["web"], "status": "enabled"}],
            "services": [{"name": "sonarr@docker", "provider": "docker",
                          "loadBalancer": {"servers": [{"url": app.url}]}}],
            "entrypoints": [{"name": "web", "address": ":80"}]}
    t = FakeTraefik(fake_server(), data=data)
    settings.TRAEFIK_API_URL, settings.DOCKER_HOST = t.url, ""
    out = io.StringIO()
    call_command("sync_traefik", stdout=out)
    assert out.getvalue().strip() == "created 1, updated 0, unchanged 0, gone 0, detected 1"
    sonarr = Service.objects.get()
    assert sonarr.url == "http://sonarr.home.lan" and sonarr.api_url == app.url
    assert sonarr.service_type == "sonarr" and sonarr.api_detected and sonarr.api_auth_type == "api_key"


def test_a_type_label_alone_names_the_catalogue_entry(fake_server):
    # homelab.api.type=sonarr on a container called "tv": the label says what it is, without enabled=true
    srv = fake_server()
    service = make("tv", srv.url, labels={"type": "sonarr"})
    result = services.detect_service(service)
    assert (result["detected"], result["method"], result["service_type"], result["auth_type"], result["base_path"]) \
        == (True, "catalogue", "sonarr", "api_key", "/api/v3")
    assert [c.path for c in srv.calls] == ["/api/v3/system/status"]
    service = make("tv2", srv.url, labels={"type": "sonarr", "endpoint": "/tv/api/v3"})
    assert services.detect_service(service)["base_path"] == "/tv/api/v3"


def test_the_command_names_every_unknown_service(fake_server):
    make("mystery-app", fake_server().url)
    with pytest.raises(CommandError, match="No service named nosuch$"):
        call_command("detect_apis", "--service", "mystery-app", "--service", "nosuch", stdout=io.StringIO())


def test_an_unreachable_host_keeps_the_api_detected_before(fake_server):
    # the weekly re-detection running while a service restarts must not wipe what was detected
    srv = fake_server()
    srv.route("GET", "/api/v1")(lambda call: (401, "", {"WWW-Authenticate": 'Basic realm="api"'}))
    service = make("mystery-app", srv.url)
    services.detect_service(service)
    Service.objects.filter(pk=service.pk).update(url="http://127.0.0.1:9")
    result = services.detect_service(Service.objects.get(pk=service.pk))
    assert result["detected"] is False and result["evidence"]["unreachable"] is True
    service.refresh_from_db()
    assert (service.api_detected, service.api_base_path, service.api_auth_type) == (True, "/api/v1", "basic")
    # a host that answers without an API is a result, and replaces it
    Service.objects.filter(pk=service.pk).update(url=fake_server().url)
    services.detect_service(Service.objects.get(pk=service.pk))
    service.refresh_from_db()
    assert (service.api_detected, service.api_base_path, service.api_auth_type) == (False, "", "")
