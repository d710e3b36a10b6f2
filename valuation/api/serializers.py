"""API shapes of the valuation app. Money is always a string: totals in 元 to the fen (ROUND_HALF_UP,
as the pages show them), result and rollup values unrounded as stored (to 0.000001 元), so that a
client can add them up exactly. The rules of a run live in valuation.services; the request
serializer checks types and ranges and names the objects."""

from decimal import ROUND_HALF_UP

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from directory.models import AdministrativeDivision
from resources.selectors import assets_for

from .. import indicators
from ..models import MONEY, QUANTITY, AccountingRun, ParameterSet, ParameterValue, PriceBasis, RunStatus
from ..selectors import parameter_sets

FIRST_YEAR = 1990
MAX_ASSETS = 10_000  # a run over more assets is a run over a division


class YuanField(serializers.DecimalField):
    """An amount in 元 rounded to the fen, as a string."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(max_digits=MONEY["max_digits"], decimal_places=2, rounding=ROUND_HALF_UP, **kwargs)


class ExactYuanField(serializers.DecimalField):
    """An amount in 元 as stored (unrounded to the fen), as a string."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(**MONEY, **kwargs)


class QuantityField(serializers.DecimalField):
    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(**QUANTITY, **kwargs)


class ParameterSetRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = ParameterSet
        fields = ["id", "name", "version"]


class RunSerializer(serializers.ModelSerializer):
    division_code = serializers.CharField(source="division.code", read_only=True)
    division_name = serializers.CharField(source="division.name", read_only=True)
    parameter_set = ParameterSetRefSerializer(read_only=True)
    done_chunks = serializers.IntegerField(read_only=True)
    progress = serializers.SerializerMethodField(help_text=_("已完成分块数 ÷ 分块数（0–1）"))
    total_value = YuanField(allow_null=True, help_text=_("GEP 合计（元）"))
    accepted = serializers.SerializerMethodField()
    warnings = serializers.ListField(child=serializers.CharField(), read_only=True)
    created_by = serializers.CharField(source="created_by.username", read_only=True)
    accepted_by = serializers.CharField(source="accepted_by.username", read_only=True, default=None)

    class Meta:
        model = AccountingRun
        fields = [
            "id",
            "division_code",
            "division_name",
            "year",
            "price_basis",
            "base_year",
            "parameter_set",
            "status",
            "progress",
            "done_chunks",
            "chunk_count",
            "asset_count",
            "total_value",
            "warnings",
            "error",
            "inputs_checksum",
            "accepted",
            "accepted_at",
            "accepted_by",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_progress(self, run) -> float:
        if run.status == RunStatus.SUCCEEDED:
            return 1.0
        if not run.chunk_count:
            return 0.0
        return round(run.done_chunks / run.chunk_count, 4)

    def get_accepted(self, run) -> bool:
        return run.accepted_at is not None


def _year_field(**kwargs):
    # The range is checked in validate_*, with one message: its end moves with the calendar.
    return serializers.IntegerField(**kwargs)


class RunStartSerializer(serializers.Serializer):
    division = serializers.SlugRelatedField(
        slug_field="code",
        queryset=AdministrativeDivision.objects.defer("boundary"),
        help_text=_("核算范围的 12 位区划代码"),
        error_messages={"does_not_exist": _("没有代码为“{value}”的区划。")},
    )
    year = _year_field()
    parameter_set = serializers.PrimaryKeyRelatedField(queryset=parameter_sets())
    price_basis = serializers.ChoiceField(choices=PriceBasis.choices, default=PriceBasis.CURRENT)
    base_year = _year_field(required=False, allow_null=True, help_text=_("可比价核算时必填"))
    assets = serializers.ListField(
        child=serializers.CharField(max_length=30),
        required=False,
        allow_empty=False,
        max_length=MAX_ASSETS,
        help_text=_("只核算这些资源编号的资产（可选）"),
    )

    default_error_messages = {"year_range": _("年份须在 1990 至 %(year)s 之间。")}

    def _check_year(self, value):
        this_year = timezone.localdate().year
        if value is not None and not FIRST_YEAR <= value <= this_year:
            raise serializers.ValidationError(self.error_messages["year_range"] % {"year": this_year})
        return value

    def validate_year(self, value):
        return self._check_year(value)

    def validate_base_year(self, value):
        return self._check_year(value)

    def validate_assets(self, codes):
        codes = list(dict.fromkeys(codes))
        found = {
            a.code: a
            for a in assets_for(self.context["request"].user)
            .filter(code__in=codes)
            .select_related(None)
            .only("pk", "code")
        }
        unknown = [code for code in codes if code not in found]
        if unknown:
            raise serializers.ValidationError(
                _("没有这些资源编号的资产（或您无权查看）：%(codes)s。") % {"codes": "、".join(unknown[:20])}
            )
        return [found[code] for code in codes]

    def validate(self, data):
        if data.get("price_basis") == PriceBasis.COMPARABLE and not data.get("base_year"):
            raise serializers.ValidationError({"base_year": [_("可比价核算须指定基准年。")]})
        return data


class AssetResultSerializer(serializers.Serializer):
    asset_code = serializers.CharField()
    division_code = serializers.CharField()
    indicator_key = serializers.CharField()
    category = serializers.CharField()
    quantity = QuantityField()
    unit = serializers.CharField(source="quantity_unit")
    unit_price = QuantityField(allow_null=True)
    value = ExactYuanField()
    variant = serializers.CharField()


class RollupSerializer(serializers.Serializer):
    division_code = serializers.CharField(source="division.code")
    division_name = serializers.CharField(source="division.name")
    division_level = serializers.CharField(source="division.level")
    indicator_key = serializers.CharField()
    category = serializers.CharField()
    value = ExactYuanField()


class BreakdownSerializer(serializers.Serializer):
    indicator_key = serializers.CharField()
    indicator_name = serializers.SerializerMethodField()
    category = serializers.CharField()
    quantity = QuantityField()
    unit = serializers.CharField(source="quantity_unit")
    unit_price = QuantityField(allow_null=True)
    value = ExactYuanField()
    variant = serializers.CharField()

    def get_indicator_name(self, result) -> str:
        indicator = indicators.REGISTRY.get(result.indicator_key)
        return str(indicator.name) if indicator else result.indicator_key


class AssetValuationSerializer(serializers.Serializer):
    """The latest accepted valuation of one asset."""

    asset_code = serializers.CharField()
    run_id = serializers.IntegerField(source="valuation.run.pk")
    year = serializers.IntegerField(source="valuation.run.year")
    price_basis = serializers.CharField(source="valuation.run.price_basis")
    parameter_set = ParameterSetRefSerializer(source="valuation.run.parameter_set")
    accepted_at = serializers.DateTimeField(source="valuation.run.accepted_at")
    total = YuanField(source="valuation.total", help_text=_("GEP 合计（元）"))
    total_exact = ExactYuanField(source="valuation.total")
    breakdown = BreakdownSerializer(source="valuation.results", many=True)


class ParameterValueSerializer(serializers.ModelSerializer):
    indicator = serializers.CharField(source="indicator_key")
    param = serializers.CharField(source="param_key")
    value = QuantityField()

    class Meta:
        model = ParameterValue
        fields = ["indicator", "param", "value", "unit", "year", "source", "clause", "authority"]


class ParameterSetSerializer(serializers.ModelSerializer):
    copied_from = serializers.PrimaryKeyRelatedField(read_only=True)
    values = ParameterValueSerializer(many=True, read_only=True)

    class Meta:
        model = ParameterSet
        fields = [
            "id",
            "name",
            "version",
            "standard",
            "price_year",
            "valid_from",
            "status",
            "copied_from",
            "locked_at",
            "note",
            "created_at",
            "values",
        ]
