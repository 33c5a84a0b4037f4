"""Jobs: list, create, detail (with the workers), cancel, delete. Unknown ids are 404 ``NOT_FOUND``."""
from __future__ import annotations

from django.db import transaction
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions
from rest_framework.response import Response

from .. import selectors, services, tasks
from . import serializers as s
from .base import AUTH, ERRORS, NOT_FOUND, PreviewsAPIView

JOB_CREATED = "Job created successfully"
JOB_CANCELLED = "Job cancelled"


def _job(job_id):
    job = selectors.find_job(job_id)
    if job is None:
        raise exceptions.NotFound(f"Job {job_id} not found.")
    return job


class JobsView(PreviewsAPIView):
    @extend_schema(operation_id="previews_jobs_list",
                   parameters=[OpenApiParameter("limit", int, description="Most recent jobs to list (default 200).")],
                   responses={200: s.Jobs, **ERRORS})
    def get(self, request):
        raw = request.query_params.get("limit", str(selectors.JOB_LIST_LIMIT))
        if not raw.isdigit() or not 1 <= int(raw) <= 10000:
            raise exceptions.ValidationError({"limit": ["A whole number from 1 to 10000."]})
        return Response({"jobs": [selectors.job_summary(j) for j in selectors.job_list(int(raw))]})

    @extend_schema(operation_id="previews_jobs_create", request=s.JobInput,
                   responses={201: s.JobCreated, **ERRORS})
    def post(self, request):
        serializer = s.JobInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            job = services.create_job(**serializer.validated_data)
            tasks.queue_job(job.pk)
        return Response({"id": str(job.pk), "status": job.status, "message": JOB_CREATED}, status=201)


class JobDetailView(PreviewsAPIView):
    @extend_schema(operation_id="previews_jobs_detail", responses={200: s.JobDetail, **AUTH, **NOT_FOUND})
    def get(self, request, job_id: str):
        return Response(selectors.job_detail(_job(job_id)))

    @extend_schema(operation_id="previews_jobs_delete", responses={200: s.Success, **ERRORS, **NOT_FOUND})
    def delete(self, request, job_id: str):
        job = _job(job_id)
        if not services.delete_job(job.pk):
            raise exceptions.NotFound(f"Job {job_id} not found.")
        return Response({"success": True})


class JobCancelView(PreviewsAPIView):
    @extend_schema(operation_id="previews_jobs_cancel", request=None,
                   responses={200: s.SuccessMessage, **ERRORS, **NOT_FOUND})
    def post(self, request, job_id: str):
        job = _job(job_id)
        if not services.cancel_job(job.pk):
            job.refresh_from_db()
            raise exceptions.ValidationError(f"Job is already {job.status}; only pending or running jobs can be "
                                             "cancelled.")
        return Response({"success": True, "message": JOB_CANCELLED})
