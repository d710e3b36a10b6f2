"""Public, read-only API of the journal (no token needed): entries' public parts, checkpoints,
receipts and a verification of the public chain. Never the internal detail or the actor."""

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from ..models import JournalCheckpoint, JournalEntry
from ..services import public_checkpoint, public_entry, receipt
from ..verification import verify_chain


class EntrySerializer(serializers.Serializer):
    def to_representation(self, instance):
        return public_entry(instance)


class CheckpointSerializer(serializers.Serializer):
    def to_representation(self, instance):
        return public_checkpoint(instance)


class EntryViewSet(viewsets.ReadOnlyModelViewSet):
    """Entries in chain order; `?reference=` and `?kind=` filter, `?after=` starts after a seq."""

    permission_classes = [AllowAny]
    authentication_classes = []
    serializer_class = EntrySerializer
    lookup_field = "seq"
    filter_backends = []

    def get_queryset(self):
        entries = JournalEntry.objects.filter(seq__isnull=False).order_by("seq")
        params = self.request.query_params
        if params.get("reference"):
            entries = entries.filter(references__contains=[params["reference"].strip()])
        if params.get("kind"):
            entries = entries.filter(kind=params["kind"])
        if params.get("after", "").isdigit():
            entries = entries.filter(seq__gt=int(params["after"]))
        return entries

    @extend_schema(parameters=[OpenApiParameter("reference", str, required=True)])
    @action(detail=False, methods=["get"])
    def receipt(self, request):
        found = receipt(request.query_params.get("reference", ""))
        if found is None:
            raise Http404
        return Response(found)

    @action(detail=False, methods=["get"])
    def verify(self, request):
        rows = (public_entry(e) for e in JournalEntry.objects.order_by("seq", "pk").iterator(chunk_size=2000))
        return Response(verify_chain(entries=rows, check_detail=False).as_dict())


class CheckpointViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [AllowAny]
    authentication_classes = []
    serializer_class = CheckpointSerializer
    queryset = JournalCheckpoint.objects.order_by("-day")
    lookup_field = "day"
    filter_backends = []


def register(router):
    router.register("entries", EntryViewSet, basename="entry")
    router.register("checkpoints", CheckpointViewSet, basename="checkpoint")
