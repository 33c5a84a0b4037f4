"""Schedules: list, create, update (any subset), delete, run now. Unknown ids are 404 ``NOT_FOUND``; a bad cron
expression, an interval under a minute or a library the Plex server does not have are 400 ``VALIDATION_ERROR``."""
from __future__ import annotations

from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.response import Response

from .. import schedules, tasks
from ..clients import PlexError, PlexServer
from ..models import PreviewSettings
from . import schedule_serializers as s
from .serializers import Success
from .base import AUTH, ERRORS, NOT_FOUND, PLEX_DOWN, PreviewsAPIView
from .plex_views import _raise


def _schedule(schedule_id):
    schedule = schedules.find(schedule_id)
    if schedule is None:
        raise exceptions.NotFound(f"Schedule {schedule_id} not found.")
    return schedule


def plex_library(library_id: str) -> dict:
    """The library as the Plex server lists it; 400 when it has none with that id (424 PLEX_UNAVAILABLE when Plex is down)."""
    try:
        library = PlexServer.for_service(PreviewSettings.load().plex_service).library(library_id)
    except PlexError as exc:
        _raise(exc)
    if library is None:
        raise exceptions.ValidationError({"library_id": [
            f"The Plex server has no movie or show library with id {library_id}."]})
    return library


def _store(call, *args):
    try:
        return call(*args)
    except schedules.ScheduleError as exc:
        raise exceptions.ValidationError({exc.field: [exc.message]}) from None


class SchedulesView(PreviewsAPIView):
    @extend_schema(operation_id="previews_schedules_list", responses={200: s.Schedules, **AUTH})
    def get(self, request):
        return Response({"schedules": schedules.schedule_list()})

    @extend_schema(operation_id="previews_schedules_create", request=s.ScheduleInput,
                   responses={200: s.ScheduleCreated, **ERRORS, **PLEX_DOWN})
    def post(self, request):
        serializer = s.ScheduleInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        values = dict(serializer.validated_data)
        try:
            schedules.check(values, creating=True)
        except schedules.ScheduleError as exc:
            raise exceptions.ValidationError({exc.field: [exc.message]}) from None
        library = plex_library(values["library_id"])
        values["library_name"] = values.get("library_name") or library["name"]
        schedule = _store(lambda: schedules.create_schedule(**values))
        return Response({"id": str(schedule.pk), "success": True})


class ScheduleDetailView(PreviewsAPIView):
    @extend_schema(operation_id="previews_schedules_update", request=s.ScheduleUpdate,
                   responses={200: Success, **ERRORS, **NOT_FOUND, **PLEX_DOWN})
    def put(self, request, schedule_id: str):
        schedule = _schedule(schedule_id)
        serializer = s.ScheduleUpdate(data=request.data)
        serializer.is_valid(raise_exception=True)
        values = dict(serializer.validated_data)
        try:
            schedules.check(values, creating=False)
        except schedules.ScheduleError as exc:
            raise exceptions.ValidationError({exc.field: [exc.message]}) from None
        if "library_id" in values and values["library_id"] != schedule.library_id:
            values.setdefault("library_name", plex_library(values["library_id"])["name"])
        _store(schedules.update_schedule, schedule, values)
        return Response({"success": True})

    @extend_schema(operation_id="previews_schedules_delete", responses={200: Success, **ERRORS, **NOT_FOUND})
    def delete(self, request, schedule_id: str):
        schedules.delete_schedule(_schedule(schedule_id))
        return Response({"success": True})


class ScheduleRunView(PreviewsAPIView):
    @extend_schema(operation_id="previews_schedules_run", request=None,
                   responses={200: s.ScheduleRun, **ERRORS, **NOT_FOUND})
    def post(self, request, schedule_id: str):
        schedule = _schedule(schedule_id)
        with transaction.atomic():
            job, created = schedules.start(schedule.pk, by=f"run now by {request.user.get_username()}")
            if job is None:
                raise exceptions.NotFound(f"Schedule {schedule_id} not found.")
            if created:
                tasks.queue_job(job.pk)
        return Response({"success": True, "job_id": str(job.pk)})
