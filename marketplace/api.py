"""API plumbing shared by every app: pagination and JSON errors with a message."""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiResponse
from rest_framework import pagination, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from marketplace.errors import DomainError

# How every error answer looks in the OpenAPI schema (see exception_handler below).
ERROR_RESPONSE = OpenApiResponse(description='JSON {"message": ..., "code": ...}')


class PageNumberPagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 100


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        return Response({"message": str(exc), "code": exc.code}, status=exc.http_status)
    if isinstance(exc, DjangoValidationError):
        return Response({"message": "; ".join(exc.messages), "code": "invalid"}, status=status.HTTP_400_BAD_REQUEST)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if isinstance(data, dict) and "detail" in data and len(data) == 1:
        body = {"message": str(data["detail"]), "code": getattr(data["detail"], "code", "error")}
    elif isinstance(exc, (Http404, PermissionDenied)):
        body = {"message": str(exc) or gettext("Not found."), "code": "not_found"}
    else:
        body = {"message": _first_message(data), "code": "invalid", "errors": data}
    response.data = body
    return response


def _first_message(data) -> str:
    if isinstance(data, dict):
        for key, value in data.items():
            inner = _first_message(value)
            return inner if key == "non_field_errors" else f"{key}: {inner}"
    if isinstance(data, list) and data:
        return _first_message(data[0])
    return str(data)
