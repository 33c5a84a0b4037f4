"""docker-compose.yml is checked without a Docker engine (CI uses `docker compose config -q` where it can)."""
from tests.check_compose import check
from tests.conftest import ROOT


def test_the_compose_file_has_the_stack_and_every_variable():
    assert check(str(ROOT / "docker-compose.yml"), str(ROOT / ".env.example")) == []


def test_it_catches_a_missing_service_and_variable(tmp_path):
    compose = tmp_path / "docker-compose.yml"
    compose.write_text("services:\n  web:\n    image: x\n    healthcheck: {test: [CMD, 'true']}\n    environment: {}\n")
    env = tmp_path / ".env.example"
    env.write_text("LOG_LEVEL=INFO\n")
    problems = check(str(compose), str(env))
    assert "service 'db' is missing" in problems
    assert "service 'web' does not pass LOG_LEVEL from .env.example" in problems
