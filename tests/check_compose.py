"""Check docker-compose.yml without a Docker engine: it parses, has the five services with health checks
and named volumes, and passes every variable of .env.example to web, worker and beat.
Usage: python tests/check_compose.py docker-compose.yml .env.example"""
import re
import sys

import yaml

REQUIRED = ("db", "redis", "web", "worker", "beat")
# Fixed inside the containers rather than passed through: the data dir is the /data volume.
FIXED = {"HOMELAB_DATA_DIR", "HOMELAB_ENCRYPTION_KEY_FILE", "HOST", "PORT", "DATABASE_URL", "REDIS_URL"}


def check(compose_path: str, env_path: str) -> list[str]:
    with open(compose_path) as fh:
        doc = yaml.safe_load(fh)
    problems = []
    services = doc.get("services") or {}
    named_volumes = set((doc.get("volumes") or {}).keys())
    env_names = [m.group(1) for m in re.finditer(r"^([A-Z][A-Z0-9_]*)=", open(env_path).read(), re.M)]
    for name in REQUIRED:
        service = services.get(name)
        if not service:
            problems.append(f"service {name!r} is missing")
            continue
        if not service.get("image") and not service.get("build"):
            problems.append(f"service {name!r} has neither image nor build")
        health = service.get("healthcheck") or {}
        if not health.get("test"):
            problems.append(f"service {name!r} has no healthcheck")
        for volume in service.get("volumes") or []:
            source = volume.split(":", 1)[0] if isinstance(volume, str) else volume.get("source")
            if not source.startswith((".", "/")) and source not in named_volumes:
                problems.append(f"service {name!r} uses volume {source!r} that is not declared")
        for dep in service.get("depends_on") or {}:
            if dep not in services:
                problems.append(f"service {name!r} depends on unknown {dep!r}")
    for name in ("web", "worker", "beat"):
        environment = (services.get(name) or {}).get("environment") or {}
        for var in env_names:
            if var not in environment:
                problems.append(f"service {name!r} does not pass {var} from .env.example")
    for var in env_names:
        if var in FIXED:
            continue
        value = str((services.get("web") or {}).get("environment", {}).get(var, ""))
        if "${" + var not in value:
            problems.append(f"web sets {var} without reading it from .env (${{{var}:-...}})")
    return problems


if __name__ == "__main__":
    problems = check(*sys.argv[1:3])
    for problem in problems:
        print(f"docker-compose.yml: {problem}", file=sys.stderr)
    if problems:
        sys.exit(1)
    print("docker-compose.yml: ok (parsed; db, redis, web, worker, beat with health checks and named volumes)")
