"""One error format for the whole API: {"code": ..., "detail": ..., "fields": {...}}."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from tmcs.errors import DomainError


def _first_code(codes):
    if isinstance(codes, str):
        return codes
    if isinstance(codes, list) and codes:
        return _first_code(codes[0])
    if isinstance(codes, dict) and codes:
        return _first_code(next(iter(codes.values())))
    return "error"


def error_body(code, detail, fields=None):
    return {"code": code, "detail": str(detail), "fields": fields or {}}


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        return Response(error_body(exc.code, exc.detail, exc.fields), status=exc.status_code)

    # Convert Django's exceptions as DRF does, so that their codes are known below.
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(*exc.args)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)

    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # unexpected errors reach Django's handler500 (JSON under /api/)

    if isinstance(exc, exceptions.ValidationError):
        data = exc.detail
        if isinstance(data, dict):
            fields = data
        else:
            fields = {"non_field_errors": data if isinstance(data, list) else [data]}
        response.data = error_body("invalid", _("提交的数据有误，请检查各字段。"), fields)
        response.status_code = status.HTTP_400_BAD_REQUEST
        return response

    detail = getattr(exc, "detail", str(exc))
    code = _first_code(exc.get_codes()) if isinstance(exc, exceptions.APIException) else "error"
    response.data = error_body(code, detail)
    return response
