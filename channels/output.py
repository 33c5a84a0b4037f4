"""GET /output/channels.m3u: an M3U Plus playlist of the enabled providers' live channels for players (TiviMate,
VLC, Jellyfin Live TV), ``x-tvg-url`` pointing at /output/epg.xml and ``tvg-id`` from the guide match. Its
stream URLs carry the providers' credentials, so it is not open: ``?key=<API key>`` or any credential."""
from __future__ import annotations

from django.http import StreamingHttpResponse
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BaseRenderer
from rest_framework.settings import api_settings

from homelab import errors
from homelab.api.views import HomelabAPIView
from homelab.auth import APIKeyAuthentication

from . import selectors
from .api.validation import Errors, query_choice, query_text
from .parsers import CATEGORIES


class QueryKeyAuthentication(APIKeyAuthentication):
    """``?key=<API key>``, for players that can only be given a URL (the same check as ``X-API-Key``)."""

    def raw_key(self, request) -> str | None:
        return request.query_params.get("key")

    def authenticate_header(self, request):
        return "api-key"


class QueryKeyScheme(OpenApiAuthenticationExtension):
    target_class = "channels.output.QueryKeyAuthentication"
    name = "apiKeyQuery"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "query", "name": "key"}


class M3URenderer(BaseRenderer):
    media_type = "audio/x-mpegurl"
    format = "m3u"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        # only errors come here (the playlist itself is streamed): a readable line
        if isinstance(data, dict) and "detail" in data:
            detail = data["detail"]
            if isinstance(detail, list):  # 422: FastAPI's [{"loc", "msg", "type"}], one comment line each
                return "".join(f"# {item['loc'][-1]}: {item['msg']}\n" for item in detail).encode()
            return f"# {detail}\n".encode()
        return b""


def _attr(value) -> str:
    """An attribute value: M3U has no escape for a double quote inside one, so it becomes a single quote."""
    return _line(value).replace('"', "'")


def _line(value) -> str:
    return str(value).replace("\r", " ").replace("\n", " ").strip()


def render_playlist(rows, guide_url: str):
    yield f'#EXTM3U x-tvg-url="{guide_url}" url-tvg="{guide_url}"\n'
    chunk = []
    for (name, tvg_id, tvg_name, logo, group, chno, catchup, catchup_days, catchup_source, options, url,
         epg_id) in rows:
        attrs = [f'tvg-id="{_attr(epg_id or tvg_id)}"', f'tvg-name="{_attr(tvg_name or name)}"',
                 f'tvg-logo="{_attr(logo)}"', f'group-title="{_attr(group)}"']
        if chno:
            attrs.append(f'tvg-chno="{_attr(chno)}"')
        if catchup:
            attrs.append(f'catchup="{_attr(catchup)}"')
        if catchup_days:
            attrs.append(f'catchup-days="{catchup_days}"')
        if catchup_source:
            attrs.append(f'catchup-source="{_attr(catchup_source)}"')
        entry = f"#EXTINF:-1 {' '.join(attrs)},{_line(name)}\n"  # the name is the rest of the line, quotes and all
        if options:
            entry += "".join(line.strip() + "\n" for line in options.splitlines() if line.strip())
        chunk.append(entry + url.replace("\r", "").replace("\n", "") + "\n")
        if len(chunk) >= 500:
            yield "".join(chunk)
            chunk = []
    if chunk:
        yield "".join(chunk)


class ChannelsM3UView(HomelabAPIView):
    error_dialect = errors.DETAIL
    authentication_classes = [QueryKeyAuthentication, *api_settings.DEFAULT_AUTHENTICATION_CLASSES]
    permission_classes = [IsAuthenticated]
    renderer_classes = [M3URenderer]

    def perform_content_negotiation(self, request, force=False):
        return (self.renderer_classes[0](), M3URenderer.media_type)

    @extend_schema(
        operation_id="output_channels_m3u",
        parameters=[OpenApiParameter("key", str, description="An API key, for players that only take a URL."),
                    OpenApiParameter("category", str, enum=list(CATEGORIES), description="Default: tv."),
                    OpenApiParameter("group", str, description="Only this group.")],
        responses={(200, "audio/x-mpegurl"): OpenApiTypes.STR,
                   (401, "audio/x-mpegurl"): OpenApiResponse(OpenApiTypes.STR, description="Not authenticated"),
                   (422, "audio/x-mpegurl"): OpenApiResponse(OpenApiTypes.STR, description="Invalid category")},
    )
    def get(self, request):
        errs = Errors()
        category = query_choice(request.query_params, "category", errs, CATEGORIES) or "tv"
        group = query_text(request.query_params, "group", errs, max_length=2000)
        errs.raise_if_any()
        rows = selectors.output_channels(category=category, group=group)
        guide_url = request.build_absolute_uri("/output/epg.xml")
        response = StreamingHttpResponse(
            (part.encode("utf-8") for part in render_playlist(rows.iterator(chunk_size=2000), guide_url)),
            content_type="audio/x-mpegurl; charset=utf-8")
        response["Content-Disposition"] = 'inline; filename="channels.m3u"'
        response["Cache-Control"] = "no-store"
        return response
