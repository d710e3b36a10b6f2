"""Public trace API: what the trace page shows, as JSON (no token)."""

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from ..selectors import as_json, trace_view


class TraceViewSet(viewsets.ViewSet):
    permission_classes = [AllowAny]
    authentication_classes = []
    lookup_field = "code"
    lookup_value_regex = "[^/]+"

    @extend_schema(responses={200: dict})
    def retrieve(self, request, code=None):
        data = trace_view(code)
        if data is None:
            raise Http404
        return Response(as_json(data))  # GEP and areas as exact strings


def register(router):
    router.register("trace", TraceViewSet, basename="trace")
