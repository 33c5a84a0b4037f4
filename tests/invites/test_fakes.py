"""The fakes behave as the real systems do where the app depends on it."""
import pytest
import requests


@pytest.mark.parametrize("how", ["x-emby-token", "x-mediabrowser-token", "authorization", "x-emby-authorization",
                                 "api_key"])
def test_fake_jellyfin_takes_the_key_in_every_form_jellyfin_accepts(jellyfin, how):
    key = jellyfin.api_key
    headers, params = {}, {}
    if how in ("x-emby-token", "x-mediabrowser-token"):
        headers[how] = key
    elif how == "api_key":
        params["api_key"] = key
    else:
        headers[how] = f'MediaBrowser Client="t", Device="t", DeviceId="1", Version="1", Token="{key}"'
    assert requests.get(jellyfin.url + "/System/Info", headers=headers, params=params, timeout=5).status_code == 200


def test_fake_jellyfin_refuses_no_key_and_a_wrong_key(jellyfin):
    assert requests.get(jellyfin.url + "/Users", timeout=5).status_code == 401
    assert requests.get(jellyfin.url + "/Users", headers={"X-Emby-Token": "nope"}, timeout=5).status_code == 401


def test_fake_jellyfin_refuses_a_duplicate_user_name_ignoring_case(jellyfin):
    h = {"X-Emby-Token": jellyfin.api_key}
    assert requests.post(jellyfin.url + "/Users/New", json={"Name": "Bob", "Password": "x"}, headers=h,
                         timeout=5).status_code == 200
    again = requests.post(jellyfin.url + "/Users/New", json={"Name": "bob"}, headers=h, timeout=5)
    assert again.status_code == 400 and "already exists" in again.text


def test_fake_emby_answers_under_the_emby_prefix_too(emby):
    h = {"X-Emby-Token": emby.api_key}
    assert requests.get(emby.url + "/emby/System/Info", headers=h, timeout=5).json()["ServerName"] == "Fake Emby"


def test_fake_plextv_pin_flow_and_share(plextv, pms):
    h = {"X-Plex-Client-Identifier": "c1", "X-Plex-Product": "p", "Accept": "application/json"}
    pin = requests.post(plextv.url + "/api/v2/pins", headers=h, timeout=5).json()
    assert requests.get(f"{plextv.url}/api/v2/pins/{pin['id']}", headers=h, timeout=5).json()["authToken"] is None
    account, token = plextv.add_account("carol")
    plextv.approve(pin["id"], token)
    assert requests.get(f"{plextv.url}/api/v2/pins/{pin['id']}", headers=h, timeout=5).json()["authToken"] == token
    assert requests.get(f"{plextv.url}/api/v2/pins/{pin['id']}", headers={**h, "X-Plex-Client-Identifier": "other"},
                        timeout=5).status_code == 404
    owner = {"X-Plex-Token": plextv.owner_token}
    ids = plextv.section_ids(pms.machine_identifier, ["1"])
    r = requests.post(f"{plextv.url}/api/servers/{pms.machine_identifier}/shared_servers", headers=owner, timeout=5,
                      json={"server_id": pms.machine_identifier,
                            "shared_server": {"library_section_ids": ids, "invited_email": account["email"]}})
    assert r.status_code == 200 and "SharedServer" in r.text
    users = requests.get(plextv.url + "/api/users", headers=owner, timeout=5)
    assert 'username="carol"' in users.text
    assert requests.get(plextv.url + "/api/users", timeout=5).status_code == 401
