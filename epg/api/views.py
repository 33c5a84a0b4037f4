"""Dispatcharr's EPG API: one view per operation (DESIGN.md). Errors are raised, the dialect shapes them."""
import json
from datetime import timezone as dt_timezone

from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from homelab import errors
from homelab.api.permissions import IsStaffOrReadOnly
from homelab.api.views import HomelabAPIView
from homelab.validators import is_possible_id

from .. import selectors, services, tasks
from ..models import EPGSource
from .serializers import (EPGDataSerializer, EPGSourceSerializer, GridSerializer, ImportRequestSerializer)


class EPGAPIView(HomelabAPIView):
    """Dispatcharr's EPG API: DRF's own ``{"detail": ...}`` bodies."""

    error_dialect = errors.DETAIL


_SOURCE_ERRORS = {400: OpenApiTypes.OBJECT, 401: OpenApiTypes.OBJECT, 403: OpenApiTypes.OBJECT}


class SourceListView(EPGAPIView):
    permission_classes = [IsStaffOrReadOnly]
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(operation_id="epg_sources_list", responses={200: EPGSourceSerializer(many=True),
                                                               401: OpenApiTypes.OBJECT})
    def get(self, request):
        return Response(EPGSourceSerializer(selectors.sources(), many=True, context={"request": request}).data)

    @extend_schema(operation_id="epg_sources_create", request=EPGSourceSerializer,
                   responses={201: EPGSourceSerializer, **_SOURCE_ERRORS})
    def post(self, request):
        serializer = EPGSourceSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        source = serializer.save()
        return Response(EPGSourceSerializer(source, context={"request": request}).data, status=status.HTTP_201_CREATED)


class SourceDetailView(EPGAPIView):
    permission_classes = [IsStaffOrReadOnly]
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def _get(self, pk):
        return get_object_or_404(EPGSource, pk=pk)

    @extend_schema(operation_id="epg_sources_retrieve", responses={200: EPGSourceSerializer,
                                                                   401: OpenApiTypes.OBJECT, 404: OpenApiTypes.OBJECT})
    def get(self, request, pk):
        return Response(EPGSourceSerializer(self._get(pk), context={"request": request}).data)

    def _update(self, request, pk, partial):
        source = self._get(pk)
        serializer = EPGSourceSerializer(source, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        return Response(EPGSourceSerializer(serializer.save(), context={"request": request}).data)

    @extend_schema(operation_id="epg_sources_update", request=EPGSourceSerializer,
                   responses={200: EPGSourceSerializer, 404: OpenApiTypes.OBJECT, **_SOURCE_ERRORS})
    def put(self, request, pk):
        return self._update(request, pk, partial=False)

    @extend_schema(operation_id="epg_sources_partial_update", request=EPGSourceSerializer,
                   responses={200: EPGSourceSerializer, 404: OpenApiTypes.OBJECT, **_SOURCE_ERRORS})
    def patch(self, request, pk):
        return self._update(request, pk, partial=True)

    @extend_schema(operation_id="epg_sources_destroy", responses={204: None, 401: OpenApiTypes.OBJECT,
                                                                  403: OpenApiTypes.OBJECT, 404: OpenApiTypes.OBJECT})
    def delete(self, request, pk):
        self._get(pk).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class ImportView(EPGAPIView):
    """``POST {"id": N}``: 202 whether a new import was queued or one is already running (never a second; the
    message then says so, and since when)."""

    error_dialect = errors.SUCCESS_MESSAGE

    @extend_schema(
        operation_id="epg_import",
        request=ImportRequestSerializer,
        responses={
            202: inline_serializer("EPGImportAccepted", {"success": serializers.BooleanField(),
                                                         "message": serializers.CharField()}),
            **{code: inline_serializer(f"EPGImportError{code}", {"success": serializers.BooleanField(),
                                                                  "message": serializers.CharField()})
               for code in (400, 401, 404)},
        },
    )
    def post(self, request):
        data = ImportRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        source = EPGSource.objects.filter(pk=data.validated_data["id"]).first()
        if source is None:
            raise exceptions.NotFound("EPG source not found.")
        try:
            with transaction.atomic():
                started = tasks.request_import(source)
        except services.RefreshRefused as exc:
            raise exceptions.ValidationError(str(exc)) from None
        message = "EPG data import initiated." if started else selectors.running_import_message(source.pk)
        return Response({"success": True, "message": message}, status=status.HTTP_202_ACCEPTED)


class EPGDataPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 10000


class EPGDataView(EPGAPIView):
    """Guide channels; the whole list, or a page of it when ``page`` is given."""

    @extend_schema(
        operation_id="epg_epgdata_list",
        parameters=[
            OpenApiParameter("epg_source", int, description="Only this source's channels."),
            OpenApiParameter("tvg_id", str, description="Only channels with this tvg id."),
            OpenApiParameter("page", int, description="Paginate (page numbers from 1)."),
            OpenApiParameter("page_size", int, description="Rows per page (default 50, at most 10000)."),
        ],
        responses={
            200: EPGDataSerializer(many=True),
            400: OpenApiTypes.OBJECT, 401: OpenApiTypes.OBJECT, 404: OpenApiTypes.OBJECT,
        },
    )
    def get(self, request):
        source_id = _source_filter(request.query_params)
        rows = selectors.served_channels(source_id=source_id, tvg_id=_tvg_filter(request.query_params))
        if "page" in request.query_params:
            paginator = EPGDataPagination()
            page = paginator.paginate_queryset(rows, request, view=self)
            return paginator.get_paginated_response(list(page))
        return Response(list(rows))


def _source_filter(query) -> int | None:
    """The ``epg_source`` filter: None when not given; an id (one that no row can have, past int64, is 0,
    which matches nothing, as an unknown id does); 400 when not a number."""
    value = query.get("epg_source")
    if value in (None, ""):
        return None
    if not (value.isascii() and value.isdigit()):  # isdigit alone takes "²", which int() refuses
        raise exceptions.ValidationError({"epg_source": ["A valid integer is required."]})
    source_id = int(value)
    return source_id if is_possible_id(source_id) else 0


def _tvg_filter(query) -> str | None:
    """The ``tvg_id`` filter: None when not given; 400 for a NUL character (PostgreSQL refuses it in a query
    parameter: a 500; no stored tvg id can hold one)."""
    value = query.get("tvg_id") or None
    if value is not None and "\x00" in value:
        raise exceptions.ValidationError({"tvg_id": ["Null characters are not allowed."]})
    return value


def _parse_when(name, value):
    dt = parse_datetime(value.strip().replace(" ", "+")) if value else None
    if dt is None:
        raise exceptions.ValidationError({name: ["Enter an ISO 8601 date and time, e.g. 2025-11-24T19:00:00Z."]})
    try:
        if dt.tzinfo is None:
            from django.utils import timezone

            dt = timezone.make_aware(dt, timezone.get_default_timezone())
        # in UTC: Python takes offsets up to +-24 h, PostgreSQL refuses those past +-15:59
        return dt.astimezone(dt_timezone.utc)
    except (OverflowError, ValueError):
        raise exceptions.ValidationError({name: ["The date and time is out of range."]}) from None


class GridView(EPGAPIView):
    """Programmes ending after now - 1 h and starting before now + 24 h, or within ``start`` / ``end`` (one of
    them alone gives a window of the same 25 hours from there)."""

    @extend_schema(
        operation_id="epg_grid",
        parameters=[
            OpenApiParameter("start", OpenApiTypes.DATETIME,
                             description="Window start (default: now - 1 h, or end - 25 h when only end is given)."),
            OpenApiParameter("end", OpenApiTypes.DATETIME,
                             description="Window end (default: now + 24 h, or start + 25 h when only start is given)."),
            OpenApiParameter("epg_source", int, description="Only this source."),
            OpenApiParameter("tvg_id", str, description="Only this channel id."),
        ],
        responses={200: GridSerializer, 400: OpenApiTypes.OBJECT, 401: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        start, end = selectors.grid_window()
        length = end - start
        q = request.query_params
        try:
            if q.get("start"):
                start = _parse_when("start", q["start"])
                end = start + length  # one end given: the default window's length from there
            if q.get("end"):
                end = _parse_when("end", q["end"])
                if not q.get("start"):
                    start = end - length
        except OverflowError:  # a window running past year 9999 or before year 1
            raise exceptions.ValidationError({"start" if q.get("start") else "end": [
                "The date and time is out of range."]}) from None
        if end <= start:
            raise exceptions.ValidationError({"end": ["The end must be after the start."]})
        data = selectors.grid(start, end, source_id=_source_filter(q), tvg_id=_tvg_filter(q))
        # rows are plain JSON values already: skip the renderer's encoder hooks
        return HttpResponse(json.dumps({"data": data}, ensure_ascii=False), content_type="application/json")
