"""`make run`: the whole stack in the foreground until Ctrl-C or SIGTERM.

Starts the embedded Redis (when REDIS_URL is unset), migrates, creates the admin user from
HOMELAB_ADMIN_USER / HOMELAB_ADMIN_PASSWORD, frees the claims of jobs whose workers are gone (a previous run
killed mid-job: ``homelab.jobs.free_dead_claims``) and their leftover downloads, then runs the web server (uvicorn, ASGI), one Celery worker
and Celery beat as child processes. When any child exits, or on SIGINT/SIGTERM, it stops them all.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from homelab import embedded, jobs
from homelab.crypto import DecryptionError
from homelab.fields import check_decryptable
from homelab.webtoken import get_web_token

STOP_TIMEOUT = 15.0


class Command(BaseCommand):
    help = "Run the web server, a Celery worker and Celery beat (and the embedded Redis) in the foreground."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=settings.HOST)
        parser.add_argument("--port", type=int, default=settings.PORT)
        parser.add_argument("--no-worker", action="store_true", help="Do not start a Celery worker.")
        parser.add_argument("--no-beat", action="store_true", help="Do not start Celery beat.")

    def handle(self, *args, host, port, no_worker=False, no_beat=False, **options):
        self.children: list[tuple[str, subprocess.Popen]] = []
        self.stopping = False
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        redis_proc = None
        code = 0
        try:
            if settings.EMBEDDED_REDIS:
                redis_proc = embedded.start(settings.DATA_DIR)
                self.log(f"Embedded Redis on {settings.REDIS_SOCKET}")
            self.prepare()
            python = sys.executable
            web = [python, "-m", "uvicorn", "homelab.asgi:application", "--host", host, "--port", str(port),
                   "--lifespan", "off", "--timeout-graceful-shutdown", "10", *self.proxy_header_args(),
                   *self.workers_args()]
            self.spawn("web", web)
            if not no_worker:
                self.spawn("worker", [python, "-m", "celery", "-A", "homelab", "worker", "--loglevel", settings.LOG_LEVEL,
                                      "--concurrency", str(settings.CELERY_WORKER_CONCURRENCY),
                                      "--hostname", f"homelab-{port}@%h"])
            if not no_beat:
                self.spawn("beat", [python, "-m", "celery", "-A", "homelab", "beat", "--loglevel", settings.LOG_LEVEL,
                                    "--pidfile", "", "--scheduler", "homelab.beat:SafeDatabaseScheduler"])
            self.log(f"homelab is up on http://{host}:{port}/ (admin /admin/, API docs /api/docs/, health /healthz)")
            code = self.wait()
        except (DecryptionError, RuntimeError) as exc:
            raise CommandError(str(exc))
        finally:
            self.stop_children()
            embedded.stop(redis_proc)
        if code:
            raise CommandError("A process of the stack exited; everything was stopped.", returncode=code)

    @staticmethod
    def proxy_header_args() -> list[str]:
        """uvicorn believes X-Forwarded-For / -Proto only from TRUSTED_PROXIES (by default it believes loopback
        peers, so anyone on the machine could pick the address a login throttle sees)."""
        if not settings.TRUSTED_PROXIES:
            return ["--no-proxy-headers"]
        return ["--proxy-headers", "--forwarded-allow-ips", ",".join(settings.TRUSTED_PROXIES)]

    @staticmethod
    def workers_args() -> list[str]:
        """WEB_WORKERS web processes: one is bound to one CPU by Python's GIL (about 260 requests a second of
        /iptv/channels here); each process keeps WEB_THREADS database connections and ~100 MB."""
        return ["--workers", str(settings.WEB_WORKERS)] if settings.WEB_WORKERS > 1 else []

    def log(self, message: str) -> None:
        self.stderr.write(f"[serve] {message}")

    def prepare(self) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        check_decryptable()
        user, password = settings.HOMELAB_ADMIN_USER, settings.HOMELAB_ADMIN_PASSWORD
        User = get_user_model()
        if user and password:
            if not User.objects.filter(username=user).exists():
                User.objects.create_superuser(user, settings.HOMELAB_ADMIN_EMAIL or "", password)
                self.log(f"Created the admin user {user!r}.")
        elif not User.objects.filter(is_superuser=True).exclude(username="web-token").exists():
            self.log("No admin user yet: set HOMELAB_ADMIN_USER and HOMELAB_ADMIN_PASSWORD, or run "
                     "`.venv/bin/python manage.py createsuperuser` in another terminal.")
        get_web_token()  # generated (and logged once) on first start
        # before our worker starts: a running job whose heartbeat is older than three intervals has no live
        # worker (ours are not started yet; another stack's sharing the database beat every few seconds)
        for label, count in jobs.free_dead_claims().items():
            self.log(f"Freed {count} {label} job(s) left running by a stopped worker.")

    def spawn(self, name: str, argv: list[str]) -> None:
        proc = subprocess.Popen(argv, start_new_session=True, stdin=subprocess.DEVNULL)
        self.children.append((name, proc))
        self.log(f"Started {name} (pid {proc.pid})")

    def _on_signal(self, signum, frame):
        self.stopping = True

    def wait(self) -> int:
        while not self.stopping:
            for name, proc in self.children:
                if proc.poll() is not None:
                    self.log(f"{name} exited with code {proc.returncode}; stopping the rest.")
                    return proc.returncode or 1
            time.sleep(0.2)
        self.log("Stopping.")
        return 0

    def stop_children(self) -> None:
        for name, proc in self.children:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + STOP_TIMEOUT
        for name, proc in self.children:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.log(f"{name} did not stop within {STOP_TIMEOUT:.0f} s; killing it.")
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # whatever is left in its process group
            except ProcessLookupError:
                pass
            proc.wait()
        self.children = []
