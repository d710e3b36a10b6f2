"""`/api/v1/projects/red-lines/` and `/api/v1/projects/equity-stakes/`.

Staff, city administrators and auditors (VIEW_OVERSIGHT) read the red-line readings of the
cooperatives in their reach (filter by cooperative, key, status, date), the thresholds in force
(`red-lines/thresholds/`) and the cooperatives' equity stakes; 404 for a reading or stake outside
the reach, 403 without the capability. Cooperative staff (MANAGE_PROJECTS) recompute today's
readings (`red-lines/recompute/`), record stakes (an `Idempotency-Key` makes a retried request
count once: it becomes the ledger movement's key) and dispose of them; city administrators
(MANAGE_OVERSIGHT) set thresholds."""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from directory.models import Organization, OrganizationKind
from directory.permissions import Capability, can
from tmcs.errors import PermissionDeniedError
from transactions.models import Movement
from valuation.api.idempotency import HEADER, header_key

from ..forms_red_lines import ReadingFilter, StakeFilter
from ..models import EquityStake, RedLine, RedLineDirection, RedLineKey, RedLineReading
from ..selectors_red_lines import cooperatives_for, readings_for, stakes_for, thresholds_for
from ..services import books, red_lines

ERROR = OpenApiResponse(description="{code, detail, fields}")
KEY_PARAMETER = OpenApiParameter(
    HEADER,
    str,
    OpenApiParameter.HEADER,
    description="1–255 个可见 ASCII 字符；同一键的重复请求只登记一次，返回首次结果",
)


def _require(user, capability):
    if not can(user, capability):
        raise PermissionDeniedError(_("您没有权限执行此操作。"))


# --- red lines --------------------------------------------------------------------------------


class RedLineReadingSerializer(serializers.ModelSerializer):
    cooperative_name = serializers.CharField(source="cooperative.name")

    class Meta:
        model = RedLineReading
        fields = [
            "id",
            "cooperative",
            "cooperative_name",
            "key",
            "as_of",
            "value",
            "numerator",
            "denominator",
            "direction",
            "limit",
            "warning",
            "status",
            "details",
            "computed_at",
        ]


class RedLineThresholdSerializer(serializers.ModelSerializer):
    cooperative_name = serializers.CharField(source="cooperative.name", default=None)

    class Meta:
        model = RedLine
        fields = [
            "id",
            "cooperative",
            "cooperative_name",
            "key",
            "direction",
            "limit",
            "warning",
            "source",
            "updated_at",
        ]


class RedLineThresholdInputSerializer(serializers.Serializer):
    cooperative = serializers.IntegerField(required=False, allow_null=True, help_text="留空为平台默认值")
    key = serializers.ChoiceField(choices=RedLineKey.choices)
    direction = serializers.ChoiceField(choices=RedLineDirection.choices)
    limit = serializers.DecimalField(max_digits=18, decimal_places=6)
    warning = serializers.DecimalField(max_digits=18, decimal_places=6)
    source = serializers.CharField(max_length=300)


class RedLineRecomputeSerializer(serializers.Serializer):
    cooperative = serializers.IntegerField(min_value=1)


@extend_schema(tags=["projects: red lines"])
class RedLineViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = RedLineReadingSerializer
    filterset_class = ReadingFilter

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        _require(request.user, Capability.VIEW_OVERSIGHT)

    def get_queryset(self):
        return readings_for(self.request.user).order_by("-as_of", "cooperative__division__code", "key", "pk")

    @extend_schema(
        summary="红线阈值（平台默认值及管辖范围内合作社的单独设定）；POST 设置（市级管理员）",
        request=RedLineThresholdInputSerializer,
        parameters=[OpenApiParameter("cooperative", int, description="只看该合作社适用的阈值")],
        responses={200: RedLineThresholdSerializer(many=True), 400: ERROR, 403: ERROR, 404: ERROR},
    )
    @action(detail=False, methods=["get", "post"], filterset_class=None, pagination_class=None)
    def thresholds(self, request):
        if request.method == "POST":
            payload = RedLineThresholdInputSerializer(data=request.data)
            payload.is_valid(raise_exception=True)
            data = dict(payload.validated_data)
            pk = data.pop("cooperative", None)
            cooperative = get_object_or_404(cooperatives_for(request.user), pk=pk) if pk else None
            line = red_lines.set_red_line(actor=request.user, cooperative=cooperative, **data)
            return Response(RedLineThresholdSerializer(line).data, status=status.HTTP_200_OK)
        rows = thresholds_for(request.user)
        pk = request.query_params.get("cooperative")
        if pk:
            cooperative = get_object_or_404(cooperatives_for(request.user), pk=pk if pk.isdigit() else 0)
            rows = list(red_lines.thresholds(cooperative).values())
            rows.sort(key=lambda line: red_lines.KEYS.index(line.key))
        return Response(RedLineThresholdSerializer(rows, many=True).data)

    @extend_schema(
        summary="立即重新计算某合作社今日的红线（合作社工作人员）",
        request=RedLineRecomputeSerializer,
        responses={200: RedLineReadingSerializer(many=True), 400: ERROR, 403: ERROR, 404: ERROR},
    )
    @action(detail=False, methods=["post"], filterset_class=None, pagination_class=None)
    def recompute(self, request):
        payload = RedLineRecomputeSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        cooperative = get_object_or_404(
            cooperatives_for(request.user), pk=payload.validated_data["cooperative"]
        )
        computed = red_lines.recompute(actor=request.user, cooperative=cooperative)
        rows = self.get_queryset().filter(pk__in=[r.pk for r in computed]).order_by("key")
        return Response(RedLineReadingSerializer(rows, many=True).data)


# --- equity stakes ----------------------------------------------------------------------------


class EquityStakeSerializer(serializers.ModelSerializer):
    cooperative_name = serializers.CharField(source="cooperative.name")
    investee_name = serializers.CharField(source="investee.name")
    is_open = serializers.SerializerMethodField()

    class Meta:
        model = EquityStake
        fields = [
            "id",
            "cooperative",
            "cooperative_name",
            "investee",
            "investee_name",
            "amount",
            "share",
            "acquired_on",
            "disposed_on",
            "is_open",
            "source_document",
            "movement",
            "disposal_movement",
            "created_at",
        ]

    def get_is_open(self, stake) -> bool:
        return stake.disposed_on is None


class EquityStakeCreateSerializer(serializers.Serializer):
    cooperative = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.filter(kind=OrganizationKind.COOPERATIVE, is_active=True)
    )
    investee = serializers.PrimaryKeyRelatedField(queryset=Organization.objects.filter(is_active=True))
    amount = serializers.DecimalField(max_digits=16, decimal_places=2)
    share = serializers.DecimalField(max_digits=7, decimal_places=6)
    acquired_on = serializers.DateField()
    source_document = serializers.CharField(max_length=200)
    reference = serializers.CharField(max_length=60)


class EquityStakeDisposeSerializer(serializers.Serializer):
    proceeds = serializers.DecimalField(max_digits=16, decimal_places=2)
    disposed_on = serializers.DateField()
    reference = serializers.CharField(max_length=60)


@extend_schema(tags=["projects: red lines"])
class EquityStakeViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = EquityStakeSerializer
    filterset_class = StakeFilter

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        _require(request.user, Capability.VIEW_OVERSIGHT)

    def get_queryset(self):
        return stakes_for(self.request.user).order_by("-acquired_on", "-pk")

    @extend_schema(
        summary="登记对外股权投资（支持 Idempotency-Key）",
        request=EquityStakeCreateSerializer,
        parameters=[KEY_PARAMETER],
        responses={
            201: EquityStakeSerializer,
            200: EquityStakeSerializer,
            400: ERROR,
            403: ERROR,
            409: ERROR,
        },
    )
    def create(self, request):
        key = header_key(request)
        payload = EquityStakeCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        replayed = (
            key is not None
            and Movement.objects.filter(
                idempotency_key=books.stake_idempotency_key(data["cooperative"], key)
            ).exists()
        )
        stake = books.record_equity_stake(actor=request.user, idempotency_key=key, **data)
        body = EquityStakeSerializer(self.get_queryset().get(pk=stake.pk)).data
        if replayed:
            return Response(body, headers={"Idempotent-Replayed": "true"})
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="股权投资退出（收回金额与成本的差额计入投资收益）",
        request=EquityStakeDisposeSerializer,
        responses={200: EquityStakeSerializer, 400: ERROR, 403: ERROR, 404: ERROR, 409: ERROR},
    )
    @action(detail=True, methods=["post"])
    def dispose(self, request, pk=None):
        stake = self.get_object()
        payload = EquityStakeDisposeSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        books.dispose_equity_stake(actor=request.user, stake=stake, **payload.validated_data)
        return Response(EquityStakeSerializer(self.get_queryset().get(pk=stake.pk)).data)


def register(router):
    router.register("red-lines", RedLineViewSet, basename="red-line-reading")
    router.register("equity-stakes", EquityStakeViewSet, basename="equity-stake")
