"""GET /output/epg.xml: the merged XMLTV guide, streamed from the file the last import wrote, with ETag and
Last-Modified (conditional requests answered 304). Open without credentials, like Dispatcharr's own output,
so that players and other guide servers can fetch it by URL."""
from __future__ import annotations

import logging
import os
from datetime import datetime, timezone

from django.http import FileResponse, HttpResponseNotAllowed
from django.utils.http import http_date
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import condition

from . import services

logger = logging.getLogger("epg.output")


def _stat():
    path = services.output_path()
    try:
        return path, path.stat()
    except FileNotFoundError:
        # no import has written it yet (or the data dir was cleaned): build it now from what is in the database
        services.regenerate_output(None)
        return path, path.stat()


def _etag(request):
    _, st = _stat()
    return f"{st.st_mtime_ns:x}-{st.st_size:x}"


def _last_modified(request):
    _, st = _stat()
    return datetime.fromtimestamp(int(st.st_mtime), tz=timezone.utc)


@condition(etag_func=_etag, last_modified_func=_last_modified)
def _serve(request):
    path = services.output_path()
    fh = open(path, "rb")  # the open file survives a concurrent os.replace of the path
    st = os.fstat(fh.fileno())
    response = FileResponse(fh, content_type="application/xml; charset=utf-8")
    response["Content-Length"] = str(st.st_size)
    response["Cache-Control"] = "no-cache"
    response["Content-Disposition"] = f'inline; filename="{services.OUTPUT_FILENAME}"'
    # ETag/Last-Modified from the file actually being sent
    response["ETag"] = f'"{st.st_mtime_ns:x}-{st.st_size:x}"'
    response["Last-Modified"] = http_date(int(st.st_mtime))
    return response


@csrf_exempt  # read-only: a POST is a 405 here, not a CSRF 403
def epg_xml(request):
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    return _serve(request)
