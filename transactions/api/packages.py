"""`/api/v1/transactions/packages/`: packages within reach with their summary numbers; staff create."""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from directory.models import AdministrativeDivision
from resources.models import Asset

from ..forms.packages import PackageFilter
from ..models import ResourcePackage
from ..selectors_packages import package_summary, packages_for
from ..services import packages as services


class PackageSerializer(serializers.ModelSerializer):
    division = serializers.CharField(source="division.code", read_only=True)
    division_name = serializers.CharField(source="division.name", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    asset_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = ResourcePackage
        fields = [
            "id",
            "code",
            "name",
            "division",
            "division_name",
            "description",
            "suggested_use",
            "status",
            "status_label",
            "asset_count",
            "created_at",
        ]


class SummaryAssetSerializer(serializers.Serializer):
    code = serializers.CharField(source="asset.code")
    name = serializers.CharField(source="asset.name")
    resource_type = serializers.CharField(source="asset.resource_type.code")
    area_m2 = serializers.DecimalField(
        source="asset.area_m2", max_digits=16, decimal_places=2, allow_null=True
    )
    gep = serializers.DecimalField(max_digits=24, decimal_places=2, allow_null=True)
    gep_year = serializers.IntegerField(allow_null=True)
    collection_contract = serializers.CharField(source="contract.number", allow_null=True, default=None)


class SummarySerializer(serializers.Serializer):
    area_m2 = serializers.DecimalField(max_digits=18, decimal_places=2)
    area_mu = serializers.DecimalField(max_digits=18, decimal_places=2)
    area_hectares = serializers.DecimalField(max_digits=18, decimal_places=4)
    gep_total = serializers.DecimalField(max_digits=24, decimal_places=2)
    unvalued = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    earliest_term_end = serializers.DateField(allow_null=True)
    resource_types = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    assets = SummaryAssetSerializer(source="lines", many=True)


class PackageDetailSerializer(PackageSerializer):
    summary = serializers.SerializerMethodField()

    class Meta(PackageSerializer.Meta):
        fields = [*PackageSerializer.Meta.fields, "summary"]

    @extend_schema(responses=SummarySerializer)
    def get_summary(self, package) -> dict:
        return SummarySerializer(package_summary(package)).data


class PackageCreateSerializer(serializers.Serializer):
    division = serializers.CharField(help_text="12 位区划代码")
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    suggested_use = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    assets = serializers.ListField(child=serializers.CharField(), allow_empty=False, help_text="资源编号")


@extend_schema_view(
    list=extend_schema(summary="资源包列表"),
    retrieve=extend_schema(summary="资源包详情：面积、GEP、收储合同与资源"),
    create=extend_schema(
        summary="编制资源包", request=PackageCreateSerializer, responses=PackageDetailSerializer
    ),
)
class PackageViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    filterset_class = PackageFilter

    def get_queryset(self):
        return packages_for(self.request.user).order_by("-created_at", "-pk")

    def get_serializer_class(self):
        if self.action == "create":
            return PackageCreateSerializer
        return PackageDetailSerializer if self.action == "retrieve" else PackageSerializer

    def create(self, request, *args, **kwargs):
        data = PackageCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        division = get_object_or_404(
            AdministrativeDivision.objects.defer("boundary"), code=values["division"]
        )
        codes = list(dict.fromkeys(values.pop("assets")))
        assets = {a.code: a for a in Asset.objects.filter(code__in=codes).defer("geometry")}
        missing = [code for code in codes if code not in assets]
        if missing:
            raise serializers.ValidationError(
                {"assets": [_("找不到资源：%(codes)s") % {"codes": "、".join(missing)}]}
            )
        values.update(division=division, assets=[assets[code] for code in codes])
        package = services.create_package(actor=request.user, **values)
        package = self.get_queryset().get(pk=package.pk)
        return Response(PackageDetailSerializer(package).data, status=status.HTTP_201_CREATED)


def register(router):
    """Add this area's viewsets to the transactions API router."""
    router.register("packages", PackageViewSet, basename="package")
