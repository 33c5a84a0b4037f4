"""Every operation of /api/schema/ under schemathesis (bounded examples), called in-process through Django's WSGI
handler as staff with the web token: no 5xx, and each answer's status code, content type and body are the schema's."""
import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from homelab.webtoken import get_web_token


def no_server_error(ctx, response, case):
    """No 5xx, except those an operation documents as its answer: /healthz says 503 when a part of the stack is
    down (no worker runs here), /iptv/login 502 when the provider cannot be reached; the body must then match
    the schema like any other answer."""
    if case.operation.path == "/healthz" and response.status_code == 503:
        return None
    # the IPTV backend's contract: a provider that cannot be reached (a made-up host) is a 502 {"detail": ...}
    if case.operation.path == "/iptv/login" and response.status_code == 502:
        return None
    return not_a_server_error(ctx, response, case)


CHECKS = [no_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = 15  # per operation: the whole run takes ~30 s on 2 busy cores

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())
# A fixed seed: the same cases on every run (a failure is reproducible, the suite is not flaky). The coverage phase
# (every boundary case of every parameter, 400+ calls for some operations) would take minutes; fuzzing covers them.
schema.config.seed = 7
schema.config.phases.coverage.enabled = False


@pytest.fixture(autouse=True)
def _in_process(monkeypatch):
    """The WSGI handler closes database connections at the end of each request, which would close the test's
    transaction (Django's test client disconnects the same two signals); /healthz's worker ping is shortened."""
    monkeypatch.setattr("homelab.health.WORKER_PING_TIMEOUT", 0.1)  # no worker runs here: /healthz says 503 fast
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.mark.django_db
@schema.parametrize()
@hypothesis_settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                     phases=[Phase.explicit, Phase.generate],
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                            HealthCheck.function_scoped_fixture])
def test_every_operation_answers_as_its_schema_says(case):
    case.call_and_validate(headers={"X-Auth-Token": get_web_token()}, checks=CHECKS)
