"""A producer's monthly trade volumes — what a bank reads for trade-based credit. Banks see only
producers that applied for a loan at their bank; everyone else out of reach gets 404."""

from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.response import Response

from directory.models import Organization

from ..selectors import as_json, may_read_trade, trade_volumes


class TradeVolumeViewSet(viewsets.ViewSet):
    @extend_schema(
        parameters=[
            OpenApiParameter("id", int, OpenApiParameter.PATH, description="the producer organization")
        ],
        responses={200: dict},
    )
    def retrieve(self, request, pk=None):
        producer = get_object_or_404(Organization, pk=pk) if str(pk).isdigit() else None
        if producer is None or not may_read_trade(request.user, producer):
            raise Http404
        return Response(as_json(trade_volumes(producer)))  # money as exact strings


def register(router):
    router.register("trade-volumes", TradeVolumeViewSet, basename="trade-volume")
