from rest_framework import serializers
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from resources.models import Asset, Restriction, Right


class AssetSerializer(GeoFeatureModelSerializer):
    resource_type = serializers.SlugRelatedField(slug_field="code", read_only=True)
    division = serializers.SlugRelatedField(slug_field="code", read_only=True)
    area_mu = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True)

    class Meta:
        model = Asset
        geo_field = "geometry"
        fields = [
            "id",
            "code",
            "name",
            "resource_type",
            "division",
            "area_m2",
            "area_mu",
            "quantity",
            "attributes",
            "quality_grade",
            "status",
            "created_at",
            "updated_at",
        ]


class RightSerializer(serializers.ModelSerializer):
    asset = serializers.SlugRelatedField(slug_field="code", read_only=True)
    holder = serializers.StringRelatedField()
    share = serializers.CharField(source="share_display")
    valid_from = serializers.DateField(source="period.lower")
    valid_to = serializers.DateField(source="period.upper", allow_null=True)

    class Meta:
        model = Right
        fields = [
            "id",
            "asset",
            "kind",
            "holder",
            "share",
            "valid_from",
            "valid_to",
            "source_document",
            "certificate_number",
            "status",
            "supersedes",
            "ended_at",
            "end_reason",
            "created_at",
        ]


class RestrictionSerializer(serializers.ModelSerializer):
    asset = serializers.SlugRelatedField(slug_field="code", read_only=True)
    holder = serializers.StringRelatedField()
    valid_from = serializers.DateField(source="period.lower")
    valid_to = serializers.DateField(source="period.upper", allow_null=True)

    class Meta:
        model = Restriction
        fields = [
            "id",
            "asset",
            "right",
            "kind",
            "holder",
            "rank",
            "secured_amount",
            "valid_from",
            "valid_to",
            "status",
            "ended_at",
            "end_reason",
        ]


class HistoryEventSerializer(serializers.Serializer):
    """One change of the asset, a right or a restriction: what, when, by whom, why, before → after."""

    at = serializers.DateTimeField(source="pgh_created_at")
    record = serializers.SerializerMethodField()
    record_id = serializers.CharField(source="pgh_obj_id")
    action = serializers.CharField(source="pgh_label")
    username = serializers.SerializerMethodField()
    reason = serializers.SerializerMethodField()
    changes = serializers.JSONField(source="pgh_diff", allow_null=True)

    def get_record(self, event) -> str:
        return {"resources.AssetEvent": "asset", "resources.RightEvent": "right"}.get(
            event.pgh_model, "restriction"
        )

    def get_username(self, event) -> str | None:
        return (event.pgh_context or {}).get("username")

    def get_reason(self, event) -> str | None:
        return (event.pgh_context or {}).get("reason")
