"""Migrations 0002-0004 move each link's URL and credentials to a manual Service of type dispatcharr, the password
re-encrypted through the fields (no plaintext in any column), and back when undone."""
import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("epg_remote", "0001_initial")]
AFTER = [("epg_remote", "0004_drop_link_credentials")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets + executor.loader.graph.leaf_nodes("integrations")).apps


def raw(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@pytest.mark.django_db(transaction=True)
def test_the_credentials_move_to_services_and_back():
    old = migrate(BEFORE)
    Link = old.get_model("epg_remote", "DispatcharrLink")
    Service = old.get_model("integrations", "Service")
    Service.objects.create(name="Dispatcharr admin@dispatcharr:9191", slug="dispatcharr-admin-dispatcharr-9191")
    first = Link.objects.create(name="Living room", enabled=True, url="http://dispatcharr:9191", username="admin",
                                password="first-secret-pass", verify_tls=False, epg_id=21, auth_failures=2)
    second = Link.objects.create(url="https://other.example:8443", username="ops", password="second-secret-pass")
    try:
        new = migrate(AFTER)
        Link = new.get_model("epg_remote", "DispatcharrLink")
        rows = {link.pk: link for link in Link.objects.select_related("service")}
        a, b = rows[first.pk].service, rows[second.pk].service
        assert (a.source, a.service_type, a.api_url, a.api_username, a.api_password, a.verify_ssl) == (
            "manual", "dispatcharr", "http://dispatcharr:9191", "admin", "first-secret-pass", False)
        assert a.name == "Dispatcharr admin@dispatcharr:9191 2"  # the name was taken
        assert (b.api_url, b.api_username, b.api_password, b.verify_ssl) == (
            "https://other.example:8443", "ops", "second-secret-pass", True)
        assert (rows[first.pk].epg_id, rows[first.pk].auth_failures, rows[first.pk].enabled) == (21, 2, True)
        stored = [value for (value,) in raw("SELECT api_password FROM integrations_service WHERE api_password <> ''")]
        assert len(stored) == 2 and all(v.startswith("gAAAAA") and "secret" not in v for v in stored)
        columns = {c.name for c in connection.introspection.get_table_description(connection.cursor(),
                                                                                  "epg_remote_dispatcharrlink")}
        assert not {"url", "username", "password", "verify_tls"} & columns

        old = migrate(BEFORE)
        Link = old.get_model("epg_remote", "DispatcharrLink")
        back = Link.objects.get(pk=first.pk)
        assert (back.url, back.username, back.password, back.verify_tls) == (
            "http://dispatcharr:9191", "admin", "first-secret-pass", False)
        assert Link.objects.get(pk=second.pk).password == "second-secret-pass"
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())  # back to the latest schema
