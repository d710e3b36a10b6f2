"""`demands`: investors post, list and close their own; trading staff list those in reach and
read the matches."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from directory.models import AdministrativeDivision
from resources.models import ResourceType

from ..forms.demands import DemandFilter
from ..models import Demand, DemandMatch
from ..services import demands as services


class MatchSerializer(serializers.ModelSerializer):
    package_code = serializers.CharField(source="package.code", read_only=True, default=None)
    asset_code = serializers.CharField(source="asset.code", read_only=True, default=None)

    class Meta:
        model = DemandMatch
        fields = ["package", "package_code", "asset", "asset_code", "score", "reasons", "created_at"]


class DemandSerializer(serializers.ModelSerializer):
    investor_name = serializers.CharField(source="investor.name", read_only=True)
    division = serializers.SlugRelatedField(
        slug_field="code", queryset=AdministrativeDivision.objects.defer("boundary")
    )
    division_name = serializers.CharField(source="division.name", read_only=True)
    resource_type = serializers.SlugRelatedField(
        slug_field="code",
        queryset=ResourceType.objects.filter(is_active=True),
        required=False,
        allow_null=True,
    )

    class Meta:
        model = Demand
        fields = [
            "id",
            "investor",
            "investor_name",
            "resource_type",
            "division",
            "division_name",
            "min_area_m2",
            "max_area_m2",
            "budget",
            "term_years",
            "intended_use",
            "status",
            "created_at",
        ]
        read_only_fields = ["investor", "status", "created_at"]


class DemandDetailSerializer(DemandSerializer):
    matches = serializers.SerializerMethodField()

    class Meta(DemandSerializer.Meta):
        fields = [*DemandSerializer.Meta.fields, "matches"]

    def get_matches(self, demand) -> list[dict]:
        return MatchSerializer(services.matches_of(demand), many=True).data


class DemandViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    filterset_class = DemandFilter
    queryset = Demand.objects.none()

    def get_queryset(self):
        return services.demands_for(self.request.user).order_by("-created_at", "-pk")

    def get_serializer_class(self):
        return DemandDetailSerializer if self.action == "retrieve" else DemandSerializer

    def create(self, request, *args, **kwargs):
        payload = DemandSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        demand = services.post_demand(actor=request.user, **payload.validated_data)
        return Response(DemandSerializer(demand).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="关闭需求（仅发布需求的投资主体）", request=None, responses={200: DemandSerializer}
    )
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        demand = services.close_demand(actor=request.user, demand=self.get_object())
        return Response(DemandSerializer(demand).data)


def register(router):
    router.register("demands", DemandViewSet, basename="demand")
