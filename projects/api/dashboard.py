"""`/api/v1/projects/dashboard/?division=&year=`: the leaders' dashboard as JSON, the same figures
the page shows (money and ratios as decimal strings, dates in ISO format).

Readable by whoever holds VIEW_OVERSIGHT (cooperative staff, city administrators, auditors) for
divisions in their reach; a division outside the reach is a 404, a missing capability a 403, a
malformed `year` or `division` a 400 with `{code, detail, fields}`. The serializers below only
document the answer (drf-spectacular); the data come from `dashboard_data`."""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.response import Response

from ..selectors_dashboard import dashboard_data, jsonable, parse_query

ERROR = OpenApiResponse(description="{code, detail, fields}")


def _money(**kwargs):
    kwargs.setdefault("help_text", "元")
    return serializers.DecimalField(max_digits=20, decimal_places=2, **kwargs)


def _ratio(**kwargs):
    kwargs.setdefault("help_text", "比例（0.05 = 5%）")
    return serializers.DecimalField(max_digits=10, decimal_places=4, **kwargs)


class DashboardDivisionSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    level = serializers.CharField()
    level_label = serializers.CharField()


class DashboardGepFigureSerializer(serializers.Serializer):
    material = _money()
    regulating = _money()
    cultural = _money()
    total = _money()
    run = serializers.IntegerField(allow_null=True, help_text="采用的核算批次；由下级汇总时为空")
    run_division = serializers.CharField(allow_blank=True)
    source = serializers.ChoiceField(
        choices=["run", "children", ""], help_text="run：核算批次；children：下级汇总"
    )


class DashboardGepYearSerializer(DashboardGepFigureSerializer):
    year = serializers.IntegerField()


class DashboardGepChildSerializer(DashboardGepFigureSerializer):
    code = serializers.CharField()
    name = serializers.CharField()
    valued = serializers.BooleanField()


class DashboardLabelSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()


class DashboardGepSerializer(serializers.Serializer):
    categories = DashboardLabelSerializer(many=True)
    years = DashboardGepYearSerializer(many=True)
    latest_year = serializers.IntegerField(allow_null=True)
    latest_total = _money(allow_null=True)
    children_year = serializers.IntegerField(allow_null=True)
    children = DashboardGepChildSerializer(many=True)


class DashboardResourceLineSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    count = serializers.IntegerField()
    area_m2 = _money(help_text="m²（PostGIS 在 EPSG:4549 计算）")
    area_mu = _money(help_text="亩")


class DashboardMapPropertiesSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    status = serializers.CharField()
    status_label = serializers.CharField()
    type = serializers.CharField()
    url = serializers.CharField()


class DashboardMapFeatureSerializer(serializers.Serializer):
    type = serializers.CharField()
    geometry = serializers.JSONField(help_text="GeoJSON（CGCS2000 经纬度）")
    properties = DashboardMapPropertiesSerializer()


class DashboardMapSerializer(serializers.Serializer):
    type = serializers.CharField()
    features = DashboardMapFeatureSerializer(many=True)
    mode = serializers.CharField(help_text="shapes：简化后的地块形状；points：每个资源一个点（资源较多时）")
    total = serializers.IntegerField(help_text="有空间范围的资源数")
    shown = serializers.IntegerField()
    truncated = serializers.BooleanField()
    note = serializers.CharField(allow_blank=True)


class DashboardResourcesSerializer(serializers.Serializer):
    by_status = DashboardResourceLineSerializer(many=True)
    by_family = DashboardResourceLineSerializer(many=True)
    total = DashboardResourceLineSerializer()
    map = DashboardMapSerializer()


class DashboardTradingFiguresSerializer(serializers.Serializer):
    collection_count = serializers.IntegerField()
    collection_amount = _money(help_text="收储合同年度租金/保底金额（元）")
    trade_count = serializers.IntegerField()
    trade_amount = _money(help_text="交易合同总价（元）")


class DashboardTradingMonthSerializer(DashboardTradingFiguresSerializer):
    month = serializers.IntegerField(min_value=1, max_value=12)


class DashboardOpenListingsSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    reserve_total = _money()


class DashboardTradingSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    months = DashboardTradingMonthSerializer(many=True)
    totals = DashboardTradingFiguresSerializer()
    open_listings = DashboardOpenListingsSerializer()


class DashboardBucketSerializer(serializers.Serializer):
    bucket = serializers.CharField()
    label = serializers.CharField()
    count = serializers.IntegerField()
    outstanding = _money()
    overdue_principal = _money()


class DashboardLoansSerializer(serializers.Serializer):
    as_of = serializers.DateField()
    count = serializers.IntegerField()
    outstanding_principal = _money()
    overdue_loans = serializers.IntegerField()
    non_performing_principal = _money()
    non_performing_ratio = _ratio(allow_null=True)
    buckets = DashboardBucketSerializer(many=True)


class DashboardStatusCountSerializer(serializers.Serializer):
    status = serializers.CharField()
    label = serializers.CharField()
    count = serializers.IntegerField()


class DashboardCategoryCountSerializer(serializers.Serializer):
    category = serializers.CharField()
    label = serializers.CharField()
    count = serializers.IntegerField()
    admitted = serializers.IntegerField()


class DashboardAdmittedTotalsSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    total_investment = _money()
    social_capital = _money()


class DashboardAdmittedProjectSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    name = serializers.CharField()
    category = serializers.CharField()
    category_label = serializers.CharField()
    owner = serializers.CharField()
    division = serializers.CharField()
    total_investment = _money()
    social_capital = _money()
    expected_gep_gain = _money()
    admitted_on = serializers.DateField(allow_null=True)


class DashboardProjectsSerializer(serializers.Serializer):
    by_status = DashboardStatusCountSerializer(many=True)
    by_category = DashboardCategoryCountSerializer(many=True)
    admitted_totals = DashboardAdmittedTotalsSerializer()
    admitted = DashboardAdmittedProjectSerializer(many=True)
    admitted_truncated = serializers.BooleanField()


class DashboardBalanceLineSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    balance = _money()
    warning = _money()
    status = serializers.CharField(help_text="ok / warning（低于预警线）/ negative（为负）")


class DashboardGepBalanceSerializer(serializers.Serializer):
    main = DashboardBalanceLineSerializer(allow_null=True, help_text="本区划所属平衡区划；未设规则时为空")
    below = DashboardBalanceLineSerializer(many=True)


class DashboardRedLineReadingSerializer(serializers.Serializer):
    cooperative = serializers.CharField()
    key = serializers.CharField()
    label = serializers.CharField()
    as_of = serializers.DateField()
    value = serializers.DecimalField(max_digits=18, decimal_places=6, allow_null=True)
    direction = serializers.CharField()
    limit = serializers.DecimalField(max_digits=18, decimal_places=6)
    warning = serializers.DecimalField(max_digits=18, decimal_places=6)
    status = serializers.CharField()
    status_label = serializers.CharField()


class DashboardRedLinesSerializer(serializers.Serializer):
    by_status = DashboardStatusCountSerializer(many=True)
    readings = DashboardRedLineReadingSerializer(many=True)


class DashboardChildRowSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    is_self = serializers.BooleanField(help_text="直接登记在本区划（而非下级）的记录")
    gep_total = _money(allow_null=True)
    assets = serializers.IntegerField()
    area_mu = _money()
    collection_amount = _money()
    trade_amount = _money()
    open_listings = serializers.IntegerField()
    loans = serializers.IntegerField()
    outstanding_principal = _money()
    non_performing_ratio = _ratio(allow_null=True)
    admitted_projects = serializers.IntegerField()
    admitted_investment = _money()


class DashboardSerializer(serializers.Serializer):
    division = DashboardDivisionSerializer()
    child_level = serializers.CharField(allow_null=True)
    child_level_label = serializers.CharField(allow_blank=True)
    year = serializers.IntegerField()
    as_of = serializers.DateField()
    gep = DashboardGepSerializer()
    resources = DashboardResourcesSerializer()
    trading = DashboardTradingSerializer()
    loans = DashboardLoansSerializer()
    projects = DashboardProjectsSerializer()
    gep_balance = DashboardGepBalanceSerializer()
    red_lines = DashboardRedLinesSerializer()
    children = DashboardChildRowSerializer(many=True)


class _OneObjectSchema(AutoSchema):
    """The dashboard is one object, though the router serves it on its list route."""

    def _is_list_view(self, serializer=None):
        return False


class DashboardViewSet(viewsets.ViewSet):
    schema = _OneObjectSchema()

    @extend_schema(
        tags=["projects: dashboard"],
        summary="领导驾驶舱数据",
        parameters=[
            OpenApiParameter("division", str, description="12 位区划代码；缺省为本人可查看的最高一级区划"),
            OpenApiParameter("year", int, description="年份（四位数字）；缺省为当年"),
        ],
        responses={200: DashboardSerializer, 400: ERROR, 403: ERROR, 404: ERROR},
    )
    def list(self, request):
        division, year = parse_query(
            request.user, request.query_params.get("division"), request.query_params.get("year")
        )
        return Response(jsonable(dashboard_data(request.user, division, year)))


def register(router):
    router.register("dashboard", DashboardViewSet, basename="dashboard")
