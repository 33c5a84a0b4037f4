"""The join pages: ``/join`` asks for a code, ``/j/<code>`` shows the invitation and its form.

Plex servers need the joining user's plex.tv account: ``POST /j/<code>/plex`` starts a PIN sign-in and sends the
browser to plex.tv; plex.tv sends it back to ``/j/<code>/plex/callback``, which reads the PIN's token and keeps
the account (id, name, e-mail; never the token) in the session for this code.
"""
from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from . import plextv, ratelimit, redeem, tasks
from .clients import ServerError
from .forms import CodeForm, JoinForm
from .selectors import display

logger = logging.getLogger("invites.join")

STATUS = {"invalid": 404, "expired": 410, "used": 410, "no_server": 410}
SESSION_PLEX = "invites_plex"


def _plex_state(request, code: str) -> dict:
    return request.session.get(SESSION_PLEX, {}).get(code.upper(), {})


def _set_plex_state(request, code: str, state: dict | None) -> None:
    all_states = dict(request.session.get(SESSION_PLEX, {}))
    if state is None:
        all_states.pop(code.upper(), None)
    else:
        all_states[code.upper()] = state
    request.session[SESSION_PLEX] = all_states


def _context(invitation, **extra) -> dict:
    servers = list(invitation.servers.all())
    return {"invitation": invitation, "title": display(invitation)["display_name"], "servers": servers,
            "needs_plex": any(s.server_type == "plex" for s in servers),
            "needs_account": any(s.server_type != "plex" for s in servers), **extra}


def _refused(request, problem: redeem.JoinError, code: str = ""):
    return render(request, "invites/refused.html", {"message": problem.message, "kind": problem.kind, "code": code,
                                                    "title": settings.INVITES_SERVER_NAME or "Invitation"},
                  status=STATUS.get(problem.kind, 400))


def _limited(request):
    response = render(request, "invites/refused.html", {
        "message": "Too many attempts from your address. Please wait a minute and try again.", "kind": "rate",
        "title": settings.INVITES_SERVER_NAME or "Invitation"}, status=429)
    response["Retry-After"] = str(ratelimit.retry_after())
    return response


@require_http_methods(["GET", "HEAD"])
def ask_code(request):
    """``/join``: a form asking for the code; ``?code=`` goes on to ``/j/<code>``."""
    form = CodeForm(request.GET or None)
    if request.GET:
        if not ratelimit.allow(request, "lookup"):
            return _limited(request)
        if form.is_valid():
            invitation = redeem.find(form.cleaned_data["code"])
            if invitation is not None:
                return HttpResponseRedirect(reverse("invites-join", args=[invitation.code]))
            form.add_error("code", redeem.MESSAGES["invalid"])
    return render(request, "invites/ask_code.html", {"form": form, "title": settings.INVITES_SERVER_NAME or "Join"},
                  status=200 if form.is_bound is False or form.is_valid() else 400)


@require_http_methods(["GET", "HEAD", "POST"])
def join(request, code: str):
    invitation = redeem.find(code)
    if invitation is None and not ratelimit.allow(request, "lookup"):
        return _limited(request)  # guessing codes costs attempts too
    problem = redeem.refusal(invitation)
    if problem:
        return _refused(request, problem, code)
    plex_account = _plex_state(request, invitation.code).get("account")
    ctx = _context(invitation, plex_account=plex_account)
    if request.method != "POST":
        return render(request, "invites/join.html", {**ctx, "form": JoinForm(accounts=ctx["needs_account"])})
    if not ratelimit.allow(request):
        return _limited(request)
    form = JoinForm(request.POST, accounts=ctx["needs_account"])
    if not form.is_valid():
        return render(request, "invites/join.html", {**ctx, "form": form}, status=400)
    if ctx["needs_plex"] and not plex_account:
        form.add_error(None, "Sign in with Plex first.")
        return render(request, "invites/join.html", {**ctx, "form": form}, status=400)
    data = form.cleaned_data
    username = data.get("username") or (plex_account or {}).get("username", "")
    email = data.get("email") or (plex_account or {}).get("email", "")
    try:
        joined = redeem.redeem(invitation, username=username, password=data.get("password", ""), email=email,
                               plex_account=plex_account)
    except redeem.JoinError as exc:
        if exc.kind in STATUS:
            return _refused(request, exc, code)
        form.add_error("username" if exc.kind == "taken" else None, exc.message)
        return render(request, "invites/join.html", {**ctx, "form": form}, status=409 if exc.kind == "taken" else 502)
    for user in joined.users:
        tasks.queue_expiry(user)
    _set_plex_state(request, invitation.code, None)
    return render(request, "invites/joined.html", {**ctx, "username": username, "expires": joined.expires,
                                                   "users": joined.users})


@require_http_methods(["POST"])
def plex_start(request, code: str):
    invitation = redeem.find(code)
    problem = redeem.refusal(invitation)
    if problem:
        return _refused(request, problem, code)
    if not ratelimit.allow(request):
        return _limited(request)
    try:
        pin = plextv.PlexTV().create_pin()
    except ServerError as exc:
        return _refused(request, redeem.JoinError(f"The Plex sign-in could not start: {exc.message}.", "plex"), code)
    _set_plex_state(request, invitation.code, {"pin": pin["id"]})
    forward = request.build_absolute_uri(reverse("invites-plex-callback", args=[invitation.code]))
    return HttpResponseRedirect(plextv.auth_url(pin["code"], forward))


@require_http_methods(["GET", "HEAD"])
def plex_callback(request, code: str):
    invitation = redeem.find(code)
    problem = redeem.refusal(invitation)
    if problem:
        return _refused(request, problem, code)
    state = _plex_state(request, invitation.code)
    if not state.get("pin"):
        return HttpResponseRedirect(reverse("invites-join", args=[invitation.code]))
    try:
        token = plextv.PlexTV().pin_token(state["pin"])
        account = plextv.PlexTV(token).account() if token else None
    except ServerError as exc:
        return render(request, "invites/plex_wait.html", {**_context(invitation), "message": exc.message}, status=502)
    if account is None:
        return render(request, "invites/plex_wait.html", {
            **_context(invitation), "message": "Plex has not confirmed your sign-in yet."}, status=202)
    _set_plex_state(request, invitation.code, {"account": account})
    return HttpResponseRedirect(reverse("invites-join", args=[invitation.code]))
