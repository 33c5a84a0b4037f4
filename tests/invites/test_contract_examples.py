"""The contract's Python and curl examples, as written, with only the base URL (and the key) changed, against a
live server and a fake Jellyfin over real HTTP."""
import json
import subprocess
import sys

import pytest

from homelab.models import APIKey
from invites import services
from invites.models import RemoteUser

from tests.conftest import FIXTURES

BASE = "https://your-wizarr-instance.com/api"


@pytest.fixture
def setup(live_server, jellyfin, admin_user):
    """Key 1 is the one in use, key 2 "Development Key"; a server with libraries 1-3; user 1 on it."""
    key, raw = APIKey.generate(name="Production API Key", user=admin_user)
    APIKey.generate(name="Development Key", user=admin_user)
    assert key.pk == 1
    jellyfin.add_user("john_doe")
    server = services.create_server(name="Jellyfin Server", server_type="jellyfin", server_url=jellyfin.url,
                                    api_key=jellyfin.api_key)
    assert RemoteUser.objects.get().pk == 1 and sorted(server.libraries.values_list("pk", flat=True)) == [1, 2, 3]
    return f"{live_server.url}/invites/api", raw


def _swap(text, base, raw):
    return (text.replace(BASE, base).replace("your_api_key_here", raw).replace("your_api_key", raw))


@pytest.mark.django_db(transaction=True, reset_sequences=True)
def test_the_python_example_works_as_written(setup):
    base, raw = setup
    code = _swap((FIXTURES / "invites" / "contract_example.py").read_text(), base, raw)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "Total users: 1"
    assert lines[1].startswith("Created invitation: ") and len(lines[1].split(": ")[1]) == 10


@pytest.mark.django_db(transaction=True, reset_sequences=True)
def test_the_curl_examples_work_as_written(setup, jellyfin):
    base, raw = setup
    blocks = [b for b in (FIXTURES / "invites" / "contract_curl.sh").read_text().split("\n\n") if "curl" in b]
    answers = []
    for block in blocks:
        command = "\n".join(line for line in block.splitlines() if not line.startswith("#"))
        out = subprocess.run(["bash", "-c", _swap(command, base, raw) + " -sS"], capture_output=True, text=True,
                             timeout=60)
        assert out.returncode == 0, out.stderr
        answers.append(json.loads(out.stdout))
    status, status2, users, extended, invitations, created, libraries, servers, keys, deleted_key, created2, \
        extended2, deleted_inv, deleted_user = answers
    assert status == status2 and set(status) == {"users", "invites", "pending", "expired"}
    assert users["count"] == 1 and users["users"][0]["username"] == "john_doe"
    assert extended["message"] == "User john_doe expiry extended by 14 days"
    assert invitations == {"invitations": [], "count": 0}
    assert created["message"] == "Invitation created successfully" and created["invitation"]["duration"] == "30"
    assert libraries["count"] == 3 and servers["count"] == 1
    assert [k["name"] for k in keys["api_keys"]] == ["Production API Key", "Development Key"]
    assert deleted_key == {"message": "API key 'Development Key' deleted successfully"}
    assert created2["invitation"]["unlimited"] is False
    assert extended2["message"] == "User john_doe expiry extended by 30 days"
    assert deleted_inv == {"message": f"Invitation {created['invitation']['code']} deleted successfully"}
    assert deleted_user == {"message": "User john_doe deleted successfully"}
    assert jellyfin.user_named("john_doe") is None
