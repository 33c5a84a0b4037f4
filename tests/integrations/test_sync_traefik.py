"""manage.py sync_traefik against a fake Traefik (real fixture files, paging) over real HTTP."""
import base64
import io

import pytest
from django.core.management import CommandError, call_command

from integrations import traefik
from integrations.models import Service
from tests.integrations.faketraefik import FakeTraefik, fixture_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake_traefik(fake_server, settings):
    t = FakeTraefik(fake_server())
    settings.TRAEFIK_API_URL = t.url
    settings.TRAEFIK_PAGE_SIZE = 2
    settings.DOCKER_HOST = ""
    return t


def sync(*args) -> str:
    out = io.StringIO()
    call_command("sync_traefik", "--no-detect", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue().strip()


def test_it_creates_a_service_per_router_following_pages(fake_traefik):
    line = sync()
    routers = [r for r in fixture_data()["routers"] if not r["service"].endswith("@internal")
               and r.get("status", "enabled") != "disabled"]
    assert Service.objects.count() == len(routers)
    assert line.startswith(f"created {len(routers)}, updated 0, unchanged 0, gone 0")
    pages = sorted({int(c.query["page"]) for c in fake_traefik.srv.calls_to("/api/http/routers")})
    assert len(pages) > 1 and pages == list(range(1, len(pages) + 1))


def test_urls_come_from_host_rules_and_api_urls_from_servers(fake_traefik):
    sync()
    bar = Service.objects.get(traefik_router="bar@myprovider")
    assert bar.url == "http://foo.bar"
    assert bar.traefik_service == "foo-service@myprovider"
    assert bar.api_url == "http://foo.bar"  # foo-service has no load balancer in the fixtures: public URL
    baz = Service.objects.get(traefik_router="baz@myprovider")
    assert baz.url == "https://foo.baz"  # tls on the router
    crd = Service.objects.get(traefik_router="default-test-route-6b204d94623b3df4370c@kubernetescrd")
    assert crd.url == "https://foo.com/bar"  # Host && PathPrefix: the prefix is kept
    assert crd.traefik_service == "default-test-route-6b204d94623b3df4370c@kubernetescrd"  # provider added
    assert crd.api_url == "http://10.42.0.3:80/bar"  # first load-balancer server
    assert crd.entry_points == ["web"]
    assert not Service.objects.filter(traefik_router__contains="api-route").exists()  # api@internal skipped


def test_a_second_run_changes_nothing(fake_traefik):
    sync()
    before = {s.pk: (s.updated_at, s.url, s.api_url) for s in Service.objects.all()}
    line = sync()
    assert line.startswith(f"created 0, updated 0, unchanged {len(before)}, gone 0")
    assert {s.pk: (s.updated_at, s.url, s.api_url) for s in Service.objects.all()} == before


def test_vanished_routers_are_marked_not_seen_and_keep_credentials(fake_traefik):
    sync()
    bar = Service.objects.get(traefik_router="bar@myprovider")
    bar.api_key = "kept-secret-key-1"
    bar.save()
    fake_traefik.data["routers"] = [r for r in fake_traefik.data["routers"] if r.get("name") != "bar@myprovider"]
    assert ", gone 1," in sync()
    bar.refresh_from_db()
    assert bar.seen is False and bar.api_key == "kept-secret-key-1"
    fake_traefik.data["routers"] = fixture_data()["routers"]
    sync()
    bar.refresh_from_db()
    assert bar.seen is True


def test_an_edited_api_url_is_kept(fake_traefik):
    sync()
    crd = Service.objects.get(traefik_router="default-test-route-6b204d94623b3df4370c@kubernetescrd")
    crd.api_url, crd.api_url_locked = "http://127.0.0.1:1234", True
    crd.save()
    sync()
    crd.refresh_from_db()
    assert crd.api_url == "http://127.0.0.1:1234"


def test_basic_auth_to_traefik(fake_server, settings):
    token = "Basic " + base64.b64encode(b"traefik:tr-pass-123").decode()
    t = FakeTraefik(fake_server(), auth=token)
    settings.TRAEFIK_API_URL, settings.DOCKER_HOST = t.url, ""
    settings.TRAEFIK_API_USERNAME, settings.TRAEFIK_API_PASSWORD = "traefik", "tr-pass-123"
    assert sync().startswith("created")
    settings.TRAEFIK_API_PASSWORD = "wrong-pass"
    with pytest.raises(CommandError, match="401"):
        sync()


def test_unreachable_traefik_is_a_one_line_error(settings):
    settings.TRAEFIK_API_URL = "http://127.0.0.1:9"
    with pytest.raises(CommandError) as err:
        sync()
    assert "unreachable" in str(err.value) and "\n" not in str(err.value)


def test_garbage_from_traefik_is_an_error(fake_server, settings):
    srv = fake_server()

    @srv.route("GET", "/api/http/routers")
    def routers(call):
        return 200, "<html>not traefik</html>", {"Content-Type": "text/html"}

    settings.TRAEFIK_API_URL = srv.url
    with pytest.raises(CommandError, match="not JSON"):
        sync()


def test_no_traefik_url_is_an_error(settings):
    settings.TRAEFIK_API_URL = ""
    with pytest.raises(CommandError, match="TRAEFIK_API_URL"):
        sync()


def test_rule_parsing_v2_and_v3():
    r = traefik.parse_rule("Host(`a.example`) || Host(`b.example`)")
    assert r.hosts == ["a.example", "b.example"]
    r = traefik.parse_rule("Host(`a.example`,`b.example`) && PathPrefix(`/app/`)")
    assert r.hosts == ["a.example", "b.example"] and r.path_prefix == "/app"
    r = traefik.parse_rule("HostRegexp(`{sub:[a-z]+}.example.com`)")
    assert r.hosts == [] and r.regexps == ["{sub:[a-z]+}.example.com"]
    r = traefik.parse_rule("Host(`*.example.com`)")
    assert r.hosts == [] and r.wildcards == ["*.example.com"]
    assert traefik.parse_rule("PathPrefix(`/api`)").hosts == []


def test_wildcard_rules_get_no_url():
    routes = traefik.routes([{"name": "w@docker", "provider": "docker", "service": "w", "rule": "Host(`*.x.lan`)"}],
                            [], [])
    assert routes[0].url == "" and routes[0].wildcards == ["*.x.lan"]


def test_docker_labels_are_read(fake_traefik, fake_server, settings):
    docker = fake_server()

    @docker.route("GET", "/containers/json")
    def containers(call):
        return 200, [{"Names": ["/bar"], "Labels": {"homelab.api.enabled": "true", "homelab.api.type": "sonarr",
                                                      "homelab.api.endpoint": "/api/v3"}},
                     {"Names": ["/other"], "Labels": {"traefik.enable": "true"}}]

    settings.DOCKER_HOST = f"tcp://127.0.0.1:{docker.port}"
    sync()
    bar = Service.objects.get(traefik_router="bar@myprovider")
    assert bar.labels == {"enabled": "true", "type": "sonarr", "endpoint": "/api/v3"}


def test_labels_are_kept_while_docker_is_unreachable(fake_traefik, settings):
    sync()
    Service.objects.filter(traefik_router="bar@myprovider").update(labels={"enabled": "true"})
    settings.DOCKER_HOST = "tcp://127.0.0.1:9"
    err = io.StringIO()
    call_command("sync_traefik", "--no-detect", stdout=io.StringIO(), stderr=err)
    assert "Docker labels skipped" in err.getvalue()
    assert Service.objects.get(traefik_router="bar@myprovider").labels == {"enabled": "true"}


def test_a_taken_name_gets_the_provider(fake_traefik):
    Service.objects.create(name="bar", url="http://127.0.0.1:1")
    sync()
    assert Service.objects.get(traefik_router="bar@myprovider").name == "bar-myprovider"


def test_negated_matchers_give_no_host_or_prefix():
    # a frontend router that leaves /api to another router: its public URL is the host, not host/api
    r = traefik.parse_rule("Host(`app.lan`) && !PathPrefix(`/api`)")
    assert r.hosts == ["app.lan"] and r.path_prefix == ""
    r = traefik.parse_rule("!Host(`x.lan`) && Host(`y.lan`)")
    assert r.hosts == ["y.lan"]
    r = traefik.parse_rule("Host(`a.lan`) && ! PathPrefix(`/admin`) && PathPrefix(`/app`)")
    assert r.path_prefix == "/app"


def test_v3_regexps_with_groups_are_recorded():
    r = traefik.parse_rule(r"HostRegexp(`^(.+)\.apps\.lan$`) && PathPrefix(`/api`)")
    assert r.regexps == [r"^(.+)\.apps\.lan$"] and r.hosts == [] and r.path_prefix == "/api"
    r = traefik.parse_rule(r"HostRegexp(`^(www\.)?site\.lan$`) || Host(`site.lan`)")
    assert r.regexps == [r"^(www\.)?site\.lan$"] and r.hosts == ["site.lan"]


def test_an_object_that_is_not_a_router_map_is_garbage_and_marks_nothing_gone(fake_traefik, fake_server, settings):
    sync()
    srv = fake_server()

    @srv.route("GET", "/api/http/routers")
    def routers(call):
        return 200, {"message": "upstream proxy error"}

    @srv.route("GET", "/api/http/services")
    def services_(call):
        return 200, []

    settings.TRAEFIK_API_URL = srv.url
    with pytest.raises(CommandError, match="not a list of"):
        sync()
    assert not Service.objects.filter(seen=False).exists()


def test_entry_point_addresses_with_a_protocol_or_host():
    # Traefik's address format is [host]:port[/tcp|/udp]
    eps = [{"name": "websecure", "address": ":443/tcp"}, {"name": "alt", "address": "0.0.0.0:8443/tcp"},
           {"name": "v6", "address": "[::]:8080"}]
    routers = [{"name": f"{ep}@docker", "provider": "docker", "service": "s", "rule": f"Host(`{ep}.lan`)",
                "entryPoints": [ep], **({"tls": {}} if ep != "v6" else {})} for ep in ("websecure", "alt", "v6")]
    urls = [r.url for r in traefik.routes(routers, [], eps)]
    assert urls == ["https://websecure.lan", "https://alt.lan:8443", "http://v6.lan:8080"]


def test_tls_without_options_is_tls():
    eps = [{"name": "alt", "address": ":8443", "http": {"tls": {}}}, {"name": "plain", "address": ":8080"}]
    routers = [{"name": "a@docker", "provider": "docker", "service": "s", "rule": "Host(`a.lan`)",
                "entryPoints": ["alt"]},
               {"name": "b@docker", "provider": "docker", "service": "s", "rule": "Host(`b.lan`)",
                "entryPoints": ["plain"], "tls": {}}]
    assert [r.url for r in traefik.routes(routers, [], eps)] == ["https://a.lan:8443", "https://b.lan:8080"]


def test_an_api_url_given_with_its_api_suffix_works(fake_traefik, settings):
    # "Traefik's API URL" is often given as http://traefik:8080/api (where the dashboard shows it)
    settings.TRAEFIK_API_URL = fake_traefik.url + "/api/"
    assert sync().startswith("created ") and Service.objects.filter(traefik_router="bar@myprovider").exists()


def test_a_prefix_stripped_by_a_middleware_is_not_in_the_api_url(fake_traefik):
    # the CRD fixture: PathPrefix(`/tobestripped`) through a chain holding a stripPrefix of /tobestripped,
    # so the backend serves it at its root
    sync()
    stripped = Service.objects.get(traefik_router="default-test2-route-23c7f4c450289ee29016@kubernetescrd")
    assert stripped.url == "http://foo.com/tobestripped"  # the public URL keeps the prefix
    assert stripped.api_url == "http://10.42.0.3:80"
    assert Service.objects.get(traefik_router="default-test-route-6b204d94623b3df4370c@kubernetescrd").api_url \
        == "http://10.42.0.3:80/bar"  # no middleware: the backend sees the prefix


def test_strip_prefix_variants():
    svc = [{"name": "s@docker", "loadBalancer": {"servers": [{"url": "http://10.0.0.1:8080"}]}}]
    mws = [{"name": "strip-app@docker", "stripPrefix": {"prefixes": ["/app/"]}},
           {"name": "rx@file", "stripPrefixRegex": {"regex": ["/[a-z]+"]}}]

    def api_url(rule, middlewares):
        router = {"name": "r@docker", "provider": "docker", "service": "s", "rule": rule, "middlewares": middlewares}
        return traefik.routes([router], svc, [], mws)[0].api_url

    assert api_url("Host(`h.lan`) && PathPrefix(`/app`)", ["strip-app"]) == "http://10.0.0.1:8080"
    assert api_url("Host(`h.lan`) && PathPrefix(`/app/v2`)", ["strip-app@docker"]) == "http://10.0.0.1:8080/v2"
    assert api_url("Host(`h.lan`) && PathPrefix(`/app`)", ["rx@file"]) == "http://10.0.0.1:8080"
    assert api_url("Host(`h.lan`) && PathPrefix(`/app`)", ["unknown"]) == "http://10.0.0.1:8080/app"


def test_weighted_mirroring_and_hrw_services_lead_to_their_first_server(fake_traefik):
    # the CRD fixture: default-wrr1 -> weighted -> default-mirror1 -> mirroring -> default-whoami-80 -> servers
    sync()
    wrr = Service.objects.get(traefik_router="default-test3-route-7d0ac22d3d8db4b82618@kubernetescrd")
    assert (wrr.url, wrr.api_url) == ("http://foo.com/wrr1", "http://10.42.0.3:80/wrr1")
    hrw = Service.objects.get(traefik_router="default-test4-route-466d8d3a547de55dfe8a@kubernetescrd")
    assert hrw.api_url == "http://10.42.0.3:80/hrw1"
    loop = [{"name": "a@file", "weighted": {"services": [{"name": "b"}]}},
            {"name": "b@file", "failover": {"service": "a", "fallback": "c"}}]
    assert traefik.first_server_url(loop[0], {s["name"]: s for s in loop}) == ""


def test_an_http_router_and_its_https_twin_are_one_service():
    routers = [
        {"name": "sonarr@docker", "provider": "docker", "service": "sonarr", "rule": "Host(`sonarr.lan`)",
         "entryPoints": ["web"], "middlewares": ["redirect-to-https@docker"]},
        {"name": "sonarr-secure@docker", "provider": "docker", "service": "sonarr", "rule": "Host(`sonarr.lan`)",
         "entryPoints": ["websecure"], "tls": {}},
        {"name": "radarr@docker", "provider": "docker", "service": "radarr", "rule": "Host(`radarr.lan`)",
         "entryPoints": ["web"]},
    ]
    services = [{"name": "sonarr@docker", "loadBalancer": {"servers": [{"url": "http://172.18.0.5:8989"}]}},
                {"name": "radarr@docker", "loadBalancer": {"servers": [{"url": "http://172.18.0.6:7878"}]}}]
    entrypoints = [{"name": "web", "address": ":80"}, {"name": "websecure", "address": ":443"}]
    routes = {r.name: r for r in traefik.routes(routers, services, entrypoints)}
    assert set(routes) == {"sonarr", "radarr"}
    sonarr = routes["sonarr"]
    assert sonarr.router == "sonarr-secure@docker"
    assert sonarr.url == "https://sonarr.lan" and sonarr.api_url == "http://172.18.0.5:8989"
    assert sonarr.entry_points == ["websecure", "web"]
    assert routes["radarr"].url == "http://radarr.lan"
