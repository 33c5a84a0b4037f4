"""Integers beyond 64 bits in every integer path and query parameter of /api/schema/ never give a 5xx (SQLite cannot
bind them; PostgreSQL's bigint overflows): an unknown id is a 404, a filter a 400, a page size may be clamped. Fuzzing finds these only now and then: here each one is
sent on purpose, next to schemathesis's run (tests/homelab/test_schemathesis.py)."""
import pytest
from drf_spectacular.generators import SchemaGenerator

from homelab.webtoken import get_web_token

HUGE = (2**63, -(2**63) - 1, 10**30)


def integer_parameter_cases():
    schema = SchemaGenerator().get_schema(public=True)
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            parameters = operation.get("parameters", [])
            for parameter in parameters:
                if parameter.get("schema", {}).get("type") != "integer" or parameter["in"] not in ("path", "query"):
                    continue
                for value in HUGE:
                    yield pytest.param(method, path, parameters, parameter["name"], value, sorted(operation["responses"]),
                                       id=f"{method.upper()} {path} {parameter['name']}={value}")


def request_for(path, parameters, name, value):
    url, query = path, {}
    for parameter in parameters:
        sample = value if parameter["name"] == name else (1 if parameter["schema"].get("type") == "integer" else "/")
        if parameter["in"] == "path":
            url = url.replace("{" + parameter["name"] + "}", str(sample))
        elif parameter["in"] == "query" and (parameter["name"] == name or parameter.get("required")):
            query[parameter["name"]] = sample
    return url, query


@pytest.mark.django_db
@pytest.mark.parametrize("method, path, parameters, name, value, declared", list(integer_parameter_cases()))
def test_an_integer_beyond_64_bits_is_not_a_server_error(client, method, path, parameters, name, value, declared):
    url, query = request_for(path, parameters, name, value)
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    response = getattr(client, method)(url, data={} if method in ("post", "put", "patch") else None,
                                       content_type="application/json", HTTP_X_AUTH_TOKEN=get_web_token())
    assert response.status_code < 500, (response.status_code, response.content[:300])
    assert str(response.status_code) in declared, (response.status_code, declared)
