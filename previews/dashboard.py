"""``/previews/``: the dashboard page (running and recent jobs with live progress, workers, start / cancel, the
schedules with their next run, GPUs). Signed in with the web token at ``/previews/login`` (a session after
that); without a session the page sends the browser there. The page's script calls ``/previews/api/`` with the
session cookie and listens on ``/previews/ws/jobs``."""
from __future__ import annotations

from django.contrib.auth import logout
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie

from . import selectors


def _base(request) -> str:
    return request.path.rstrip("/").rsplit("/logout", 1)[0] or ""


@ensure_csrf_cookie
def dashboard(request):
    base = _base(request)
    if not request.user.is_authenticated:
        return HttpResponseRedirect(f"{base}/login")
    status = selectors.setup_status()
    jobs = selectors.job_list(25)  # drawn at once; the script keeps them up to date
    response = render(request, "previews/dashboard.html", {"base": base, "configured": status["configured"],
                                                           "jobs": jobs})
    response["Cache-Control"] = "no-store"
    return response


def sign_out(request):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    logout(request)
    return HttpResponseRedirect(f"{_base(request)}/login")
