"""/previews/: the login form and a placeholder page (the dashboard is the next issue); the API is mounted at
/previews/api/ by homelab.urls."""
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import path
from django.utils.html import escape

from .api import views
from .models import Job

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Plex previews</title>
<style>body{{font-family:sans-serif;max-width:48rem;margin:2rem auto}}td,th{{padding:.2rem .6rem;text-align:left}}</style>
</head><body><h1>Plex previews</h1><p>Jobs (the live dashboard comes later; the API is at
<code>/previews/api/</code>, the jobs and settings are in the <a href="/admin/previews/">admin</a>).</p>
<table><tr><th>library</th><th>status</th><th>progress</th><th>done / failed / skipped of total</th><th>created</th></tr>
{rows}</table></body></html>"""


def index(request):
    if not request.user.is_authenticated:
        return HttpResponseRedirect("/previews/login")
    rows = "".join(
        f"<tr><td>{escape(j.library_name or j.library_id)}</td><td>{j.status}</td><td>{j.progress} %</td>"
        f"<td>{j.completed_items} / {j.failed_items} / {j.skipped_items} of {j.total_items}</td>"
        f"<td>{j.created_at:%Y-%m-%d %H:%M}</td></tr>" for j in Job.objects.all()[:50])
    return HttpResponse(PAGE.format(rows=rows))


urlpatterns = [
    path("", index),
    path("login", views.FormLoginView.as_view()),
]
