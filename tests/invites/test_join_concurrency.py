"""Two people redeeming one single-use code at once: exactly one gets an account."""
import threading

import pytest
from django.db import connection

from invites import redeem, services
from invites.models import Invitation, RemoteUser


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_joins_on_a_single_use_code_admit_exactly_one(jellyfin, make_server, poll):
    server = make_server(jellyfin)
    inv = services.create_invitation(unlimited=False, server_ids=[server.pk])
    gate = threading.Event()
    # the account creation waits at the gate: the first claim holds the use while the second join runs, and the
    # gate opens only once one join has finished (if both got past their claim, both would wait and this fails)
    jellyfin.create_gate = gate
    results = {}

    def join(name):
        try:
            invitation = redeem.find(inv.code)
            redeem.redeem(invitation, username=name, password="Secret123", email=f"{name}@example.com")
            results[name] = "ok"
        except redeem.JoinError as exc:
            results[name] = exc.kind
        finally:
            connection.close()

    threads = [threading.Thread(target=join, args=(n,)) for n in ("one", "two")]
    for t in threads:
        t.start()
    poll(lambda: len(results) == 1, timeout=20, message="one join to be refused while the other waits")
    gate.set()
    for t in threads:
        t.join(30)
    assert sorted(results.values()) == ["ok", "used"]
    assert len(jellyfin.invited()) == 1 and RemoteUser.objects.count() == 1
    assert Invitation.objects.get(pk=inv.pk).used_count == 1
