"""GET /api/plex/path-check?library_id=: a few items with Plex's path, the mapped local path and whether it
exists here (the answer to "why were no previews made")."""
import pytest

pytestmark = pytest.mark.django_db


def test_it_shows_plex_and_local_paths_and_which_exist(client, configured):
    found = configured.local / "movies/Sintel (2010)/sintel.mp4"
    found.parent.mkdir(parents=True)
    found.write_bytes(b"x")
    response = client.get("/previews/api/plex/path-check?library_id=1")
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"library_id", "library_name", "mapping", "items", "message"}
    assert (body["library_id"], body["library_name"]) == ("1", "Movies")
    assert body["mapping"] == [{"plex": "/data", "local": str(configured.local)}]
    assert body["items"] == [
        {"title": "Big Buck Bunny", "plex_path": "/data/movies/Big Buck Bunny (2008)/bbb.mkv",
         "local_path": str(configured.local / "movies/Big Buck Bunny (2008)/bbb.mkv"), "exists": False},
        {"title": "Sintel", "plex_path": "/data/movies/Sintel (2010)/sintel.mp4", "local_path": str(found),
         "exists": True}]
    assert body["message"] == ("1 of 2 file(s) do not exist here after mapping: check plex_videos_path_mapping and "
                               "plex_local_videos_path_mapping.")


def test_episodes_of_a_show_library_and_the_limit(client, configured):
    body = client.get("/previews/api/plex/path-check?library_id=2&limit=2").json()
    assert [i["title"] for i in body["items"]] == ["Show S01E01 - Episode 1", "Show S01E02 - Episode 2"]


def test_without_a_mapping_it_says_to_set_one(client, configured):
    client.post("/previews/api/settings", {"plex_videos_path_mapping": "", "plex_local_videos_path_mapping": ""},
                format="json")
    body = client.get("/previews/api/plex/path-check?library_id=1").json()
    assert body["mapping"] == [] and body["items"][0]["local_path"] == body["items"][0]["plex_path"]
    assert "no path mapping is set" in body["message"]


@pytest.mark.parametrize("query,status,code", [("", 400, "VALIDATION_ERROR"), ("?library_id=", 400, "VALIDATION_ERROR"),
                                               ("?library_id=42", 404, "NOT_FOUND"),
                                               ("?library_id=1&limit=0", 400, "VALIDATION_ERROR"),
                                               ("?library_id=1&limit=x", 400, "VALIDATION_ERROR")])
def test_bad_queries(client, configured, query, status, code):
    response = client.get(f"/previews/api/plex/path-check{query}")
    assert response.status_code == status and response.json()["code"] == code


def test_plex_down_is_424_plex_unavailable_saying_why(client, configured):
    _plex_goes_down()
    response = client.get("/previews/api/plex/path-check?library_id=1")
    assert response.status_code == 424 and response.json()["code"] == "PLEX_UNAVAILABLE"
    assert "Could not reach the Plex server" in response.json()["error"]


def _plex_goes_down():
    """The Plex URL now answers nothing (a closed port), at once."""
    from previews import services
    from tests.live import free_port

    services.save_settings({"plex_url": f"http://127.0.0.1:{free_port()}"})
