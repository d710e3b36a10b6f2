"""Licences, read-only, scoped like the web pages (staff by division, producers their own)."""

from rest_framework import serializers, viewsets

from ..models import Licence
from ..selectors import licences_for


class LicenceSerializer(serializers.ModelSerializer):
    brand = serializers.CharField(source="brand.name")
    producer = serializers.CharField(source="producer.name")
    origin_assets = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)

    class Meta:
        model = Licence
        fields = [
            "number",
            "brand",
            "producer",
            "categories",
            "valid_from",
            "valid_to",
            "status",
            "status_reason",
            "origin_assets",
        ]


class LicenceViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = LicenceSerializer
    lookup_field = "number"
    filter_backends = []

    def get_queryset(self):
        return licences_for(self.request.user).prefetch_related("origin_assets").order_by("number")


def register(router):
    router.register("licences", LicenceViewSet, basename="licence")
