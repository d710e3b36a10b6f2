from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from resources.filters import AssetFilter
from resources.selectors import assets_for, history_of, restrictions_of, rights_of

from .serializers import AssetSerializer, HistoryEventSerializer, RestrictionSerializer, RightSerializer


class AssetViewSet(viewsets.ReadOnlyModelViewSet):
    """Assets within reach as GeoJSON features (banks: assets they hold a pledge on)."""

    serializer_class = AssetSerializer
    filterset_class = AssetFilter

    def get_queryset(self):
        return assets_for(self.request.user).order_by("code")

    @action(detail=True)
    def rights(self, request, pk=None):
        return Response(RightSerializer(rights_of(self.get_object()), many=True).data)

    @action(detail=True)
    def restrictions(self, request, pk=None):
        return Response(RestrictionSerializer(restrictions_of(self.get_object()), many=True).data)

    @extend_schema(responses=HistoryEventSerializer(many=True), summary="资源、权利与限制的变更记录")
    @action(detail=True)
    def history(self, request, pk=None):
        events = history_of(self.get_object())[:500]
        return Response(HistoryEventSerializer(events, many=True).data)
