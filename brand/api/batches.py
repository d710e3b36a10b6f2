"""Batches, read-only, scoped like the web pages."""

from rest_framework import serializers, viewsets

from ..models import ProductBatch
from ..selectors import batches_for


class BatchSerializer(serializers.ModelSerializer):
    licence = serializers.CharField(source="licence.number")
    producer = serializers.CharField(source="producer.name")
    origin_assets = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)

    class Meta:
        model = ProductBatch
        fields = [
            "number", "trace_code", "licence", "producer", "product_name", "category", "harvest_start",
            "harvest_end", "produced_on", "quantity", "unit", "status", "origin_assets",
        ]  # fmt: skip


class BatchViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = BatchSerializer
    lookup_field = "number"
    filter_backends = []

    def get_queryset(self):
        return batches_for(self.request.user).prefetch_related("origin_assets").order_by("-pk")


def register(router):
    router.register("batches", BatchViewSet, basename="batch")
