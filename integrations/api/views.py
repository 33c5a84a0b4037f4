"""The services API (/api/services/): list and detail, proxy, detect, test and docs. One view per operation."""
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, status
from rest_framework.response import Response

from homelab import errors
from homelab.api.permissions import IsStaffOrReadOnly
from homelab.api.views import HomelabAPIView
from integrations import proxy, selectors, services
from integrations.models import Service

from .permissions import CanUseServiceAPI
from .serializers import (ServiceDetectOutputSerializer, ServiceDocsOutputSerializer, ServiceErrorSerializer, ServiceProxyOutputSerializer,
                          ServiceInputSerializer, ServiceOutputSerializer, ServiceTestOutputSerializer)


class ServicesAPIView(HomelabAPIView):
    """The services API; the proxy's dialect is ``{"success": false, "error": ...}``."""

    error_dialect = errors.SUCCESS_ERROR


class UpstreamError(exceptions.APIException):
    """An error answered for the upstream: its 4xx passed through, 502 unreachable, 504 timeout."""

    def __init__(self, message: str, status_code: int):
        super().__init__(detail=message)
        self.status_code = status_code


ERRORS = {400: ServiceErrorSerializer, 401: ServiceErrorSerializer, 403: ServiceErrorSerializer, 404: ServiceErrorSerializer}


class ServiceListView(ServicesAPIView):
    permission_classes = [IsStaffOrReadOnly]

    @extend_schema(operation_id="services_list", responses={200: ServiceOutputSerializer(many=True), **ERRORS})
    def get(self, request):
        return Response(ServiceOutputSerializer(selectors.service_list(), many=True, context={"request": request}).data)

    @extend_schema(operation_id="services_create", request=ServiceInputSerializer,
                   responses={201: ServiceOutputSerializer, **ERRORS})
    def post(self, request):
        serializer = ServiceInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        service = serializer.save(source=Service.Source.MANUAL,
                                  api_auth_type_locked=bool(serializer.validated_data.get("api_auth_type")))
        return Response(ServiceOutputSerializer(service).data, status=status.HTTP_201_CREATED)


class ServiceDetailView(ServicesAPIView):
    permission_classes = [IsStaffOrReadOnly]

    @extend_schema(operation_id="services_retrieve", responses={200: ServiceOutputSerializer, **ERRORS})
    def get(self, request, pk):
        return Response(ServiceOutputSerializer(get_object_or_404(Service, pk=pk), context={"request": request}).data)

    @extend_schema(operation_id="services_update", request=ServiceInputSerializer,
                   responses={200: ServiceOutputSerializer, **ERRORS})
    def patch(self, request, pk):
        service = get_object_or_404(Service, pk=pk)
        serializer = ServiceInputSerializer(service, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        if "api_url" in serializer.validated_data and serializer.validated_data["api_url"] != service.api_url:
            service.api_url_locked = True
        if "api_auth_type" in serializer.validated_data:  # chosen by hand: kept by re-detection; blank hands it back
            service.api_auth_type_locked = bool(serializer.validated_data["api_auth_type"])
        service = serializer.save()
        return Response(ServiceOutputSerializer(service).data)

    @extend_schema(operation_id="services_destroy", responses={204: None, **ERRORS})
    def delete(self, request, pk):
        get_object_or_404(Service, pk=pk).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


PROXY_PARAMS = [OpenApiParameter("path", str, required=True,
                                 description="Absolute path on the service, e.g. /api/v3/system/status. "
                                             "Other query parameters are forwarded.")]
PROXY_RESPONSES = {200: ServiceProxyOutputSerializer, 304: None, 400: ServiceErrorSerializer, 401: ServiceErrorSerializer,
                   403: ServiceErrorSerializer, 404: ServiceErrorSerializer,
                   409: ServiceErrorSerializer, 502: ServiceErrorSerializer, 504: ServiceErrorSerializer}


class ServiceProxyView(ServicesAPIView):
    """GET/POST/PUT/PATCH/DELETE ``?path=`` on the service's API URL; ``{"success": true, "data": ...}``.
    GET for anyone signed in; the writes for staff or ``integrations.use_service_api``."""

    permission_classes = [CanUseServiceAPI]

    def initial(self, request, *args, **kwargs):
        # The raw body is what is forwarded. Read it before authentication: a session's CSRF check reads
        # request.POST, which parses (and consumes) the stream, after which the body can no longer be read.
        if request.method in ("POST", "PUT", "PATCH", "DELETE"):
            request._request.body  # noqa: B018 - cached on the Django request
        super().initial(request, *args, **kwargs)

    def _proxy(self, request, pk):
        service = selectors.service_for_proxy(pk)
        if service is None:
            raise exceptions.NotFound()
        if not service.enabled:
            # the operator switched it off: nothing is sent, with or without its stored credentials
            raise UpstreamError(f"Service '{service.name}' is disabled", status.HTTP_409_CONFLICT)
        if len(request.query_params.getlist("path")) > 1:
            raise UpstreamError("path must be given once", status.HTTP_400_BAD_REQUEST)
        params = [(k, v) for k, values in request.query_params.lists() if k != "path" for v in values]
        headers = {"Content-Type": request.content_type or "", "Accept": request.headers.get("Accept", ""),
                   "Accept-Language": request.headers.get("Accept-Language", ""),
                   "If-None-Match": request.headers.get("If-None-Match", ""),
                   "If-Modified-Since": request.headers.get("If-Modified-Since", "")}
        body = request.body if request.method in ("POST", "PUT", "PATCH", "DELETE") else b""
        if not body:
            headers.pop("Content-Type")
        try:
            data = proxy.forward(service, request.method, request.query_params.get("path"), params=params,
                                 body=body, headers=headers)
        except proxy.ProxyError as exc:
            raise UpstreamError(exc.message, exc.status) from None
        if data is proxy.NOT_MODIFIED:
            return Response(status=status.HTTP_304_NOT_MODIFIED)
        return Response({"success": True, "data": data})

    @extend_schema(operation_id="services_proxy_get", parameters=PROXY_PARAMS, responses=PROXY_RESPONSES)
    def get(self, request, pk):
        return self._proxy(request, pk)

    @extend_schema(operation_id="services_proxy_post", parameters=PROXY_PARAMS, request={"application/json": dict},
                   responses=PROXY_RESPONSES)
    def post(self, request, pk):
        return self._proxy(request, pk)

    @extend_schema(operation_id="services_proxy_put", parameters=PROXY_PARAMS, request={"application/json": dict},
                   responses=PROXY_RESPONSES)
    def put(self, request, pk):
        return self._proxy(request, pk)

    @extend_schema(operation_id="services_proxy_patch", parameters=PROXY_PARAMS,
                   request={"application/json": dict}, responses=PROXY_RESPONSES)
    def patch(self, request, pk):
        return self._proxy(request, pk)

    @extend_schema(operation_id="services_proxy_delete", parameters=PROXY_PARAMS, responses=PROXY_RESPONSES)
    def delete(self, request, pk):
        return self._proxy(request, pk)


class ServiceDetectView(ServicesAPIView):
    permission_classes = [CanUseServiceAPI]

    @extend_schema(operation_id="services_detect", request=None, responses={200: ServiceDetectOutputSerializer, **ERRORS})
    def post(self, request, pk):
        service = get_object_or_404(Service, pk=pk)
        result = services.detect_service(service, force=True)
        return Response({"success": True, **result})


class ServiceTestView(ServicesAPIView):
    permission_classes = [CanUseServiceAPI]

    @extend_schema(operation_id="services_test", request=None, responses={200: ServiceTestOutputSerializer, **ERRORS})
    def post(self, request, pk):
        service = get_object_or_404(Service, pk=pk)
        result = services.test_connection(service)
        return Response({"success": result.pop("ok"), **result})


class ServiceDocsView(ServicesAPIView):
    @extend_schema(operation_id="services_docs", responses={200: ServiceDocsOutputSerializer, **ERRORS})
    def get(self, request, pk):
        service = get_object_or_404(Service, pk=pk)
        proxy_url = request.build_absolute_uri(f"/api/services/{service.pk}/proxy/")
        return Response(selectors.service_docs(service, proxy_url))
