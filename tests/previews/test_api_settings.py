"""GET/POST /api/settings: the contract's fields, the token masked and kept in the Plex Service (encrypted),
the whole request validated before anything is saved; /api/system/config without the token."""
import pytest

from integrations.models import Service

pytestmark = pytest.mark.django_db

SETTINGS_KEYS = {"plex_url", "plex_token", "plex_name", "plex_config_folder", "selected_libraries", "media_path",
                 "plex_videos_path_mapping", "plex_local_videos_path_mapping", "gpu_threads", "cpu_threads",
                 "thumbnail_interval", "thumbnail_quality"}


def test_defaults(client):
    body = client.get("/previews/api/settings").json()
    assert set(body) == SETTINGS_KEYS
    assert body["plex_token"] == "" and body["thumbnail_interval"] == 5 and body["thumbnail_quality"] == 4


def test_saving_and_reading_back(client):
    body = {"plex_url": "http://192.168.1.100:32400/", "plex_token": "secret-plex-token", "plex_name": "My Server",
            "plex_config_folder": "/plex", "selected_libraries": ["1", 2], "media_path": "/media",
            "plex_videos_path_mapping": "/data/movies;/data/tv", "plex_local_videos_path_mapping": "/mnt/m;/mnt/t",
            "gpu_threads": 4, "cpu_threads": 2, "thumbnail_interval": 10, "thumbnail_quality": 3}
    response = client.post("/previews/api/settings", body, format="json")
    assert response.status_code == 200
    assert response.json() == {"success": True}
    got = client.get("/previews/api/settings").json()
    assert got == {**body, "plex_url": "http://192.168.1.100:32400", "plex_token": "****",
                   "selected_libraries": ["1", "2"]}


def test_the_token_is_stored_encrypted_in_a_plex_service(client):
    client.post("/previews/api/settings", {"plex_url": "http://plex:32400", "plex_token": "secret-plex-token"},
                format="json")
    service = Service.objects.get()
    assert (service.source, service.service_type, service.api_auth_type) == ("manual", "plex", "plex")
    assert service.api_url == "http://plex:32400" and service.api_key == "secret-plex-token"
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT api_key FROM integrations_service")
        assert "secret-plex-token" not in cursor.fetchone()[0]


def test_the_masked_token_keeps_the_stored_one(client):
    client.post("/previews/api/settings", {"plex_url": "http://plex:32400", "plex_token": "secret-plex-token"},
                format="json")
    client.post("/previews/api/settings", {"plex_token": "****", "plex_name": "renamed"}, format="json")
    assert Service.objects.get().api_key == "secret-plex-token"


def test_partial_updates_keep_the_other_fields(client):
    client.post("/previews/api/settings", {"gpu_threads": 3, "cpu_threads": 1}, format="json")
    client.post("/previews/api/settings", {"thumbnail_interval": 2}, format="json")
    body = client.get("/previews/api/settings").json()
    assert (body["gpu_threads"], body["cpu_threads"], body["thumbnail_interval"]) == (3, 1, 2)


@pytest.mark.parametrize("field, value", [
    ("thumbnail_interval", 0), ("thumbnail_interval", 61), ("thumbnail_interval", "five"),
    ("thumbnail_quality", 0), ("thumbnail_quality", 11), ("gpu_threads", -1), ("cpu_threads", 10 ** 30),
    ("cpu_threads", True), ("plex_config_folder", "relative/plex"), ("media_path", "media"),
    ("plex_local_videos_path_mapping", "/ok;relative"), ("plex_url", "ftp://plex"), ("plex_url", "http://:0"),
    ("selected_libraries", "1"), ("plex_config_folder", "/a\x00b"),
])
def test_one_bad_field_saves_nothing_and_names_it(client, field, value):
    body = {"gpu_threads": 7, "plex_name": "changed", field: value}
    response = client.post("/previews/api/settings", body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION_ERROR"
    assert response.json()["error"].startswith(f"{field}: ")
    got = client.get("/previews/api/settings").json()
    assert got["gpu_threads"] == 0 and got["plex_name"] == ""


def test_mapping_pairs_must_pair_up(client):
    response = client.post("/previews/api/settings", {"plex_videos_path_mapping": "/a;/b",
                                                      "plex_local_videos_path_mapping": "/x"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"] == (
        "plex_local_videos_path_mapping: plex_videos_path_mapping has 2 path(s) and plex_local_videos_path_mapping "
        "1: give one local path for each Plex path, in the same order, separated by ';'.")


def test_windows_plex_paths_are_accepted_on_the_plex_side(client):
    response = client.post("/previews/api/settings", {"plex_videos_path_mapping": "D:\\Media",
                                                      "plex_local_videos_path_mapping": "/mnt/media"}, format="json")
    assert response.status_code == 200


def test_a_body_that_is_not_an_object_is_a_validation_error(client):
    response = client.post("/previews/api/settings", [1, 2], format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION_ERROR"


def test_system_config_never_shows_the_token(client):
    client.post("/previews/api/settings", {"plex_url": "http://plex:32400", "plex_token": "secret-plex-token",
                                           "gpu_threads": 1}, format="json")
    response = client.get("/previews/api/system/config")
    assert response.json() == {"plex_url": "http://plex:32400", "gpu_threads": 1, "cpu_threads": 2,
                               "thumbnail_interval": 5, "thumbnail_quality": 4}
    assert b"secret-plex-token" not in response.content


@pytest.mark.parametrize("url", ["http://plex:32400/?X-Plex-Token=secret-in-url", "http://plex:32400?token=secret-in-url",
                                 "http://plex:32400/web/index.html#!/secret-in-url"])
def test_a_plex_url_with_a_query_or_fragment_is_refused_so_no_token_reaches_system_config(client, url):
    response = client.post("/previews/api/settings", {"plex_url": url, "gpu_threads": 3}, format="json")
    assert response.status_code == 400
    assert response.json() == {"error": "plex_url: The URL must not carry a query string or fragment: put the "
                                        "token in plex_token.", "code": "VALIDATION_ERROR"}
    config = client.get("/previews/api/system/config")
    assert config.json()["plex_url"] == "" and config.json()["gpu_threads"] == 0
    assert b"secret-in-url" not in config.content
