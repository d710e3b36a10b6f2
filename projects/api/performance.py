"""`/api/v1/projects/evaluation-schemes/` and `/api/v1/projects/performance/`.

Schemes are platform-wide: read by whoever reads oversight (staff, city administrators,
auditors), created and deactivated by city administrators. Evaluations are read within the
caller's division reach (404 outside it) and filtered by scheme, cooperative, level and period;
cooperative staff and city administrators evaluate one cooperative (`POST performance/`) or all
peers of a level in their reach (`POST performance/peers/`)."""

from decimal import Decimal

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from directory.models import DivisionLevel
from tmcs.errors import PermissionDeniedError

from ..forms_performance import LEVEL_CHOICES, EvaluationFilter, SchemeFilter
from ..models import EvaluationIndicator, EvaluationScheme, IndicatorKey, PerformanceEvaluation
from ..selectors_performance import (
    evaluable_cooperatives,
    evaluations_for,
    may_evaluate_any,
    may_manage_schemes,
    may_read,
    schemes_for,
)
from ..services import performance as services

ERROR = OpenApiResponse(description="{code, detail, fields}")


def _require(allowed):
    if not allowed:
        raise PermissionDeniedError(_("您没有权限执行此操作。"))


# --- schemes ----------------------------------------------------------------------------------


class EvaluationIndicatorSerializer(serializers.ModelSerializer):
    label = serializers.CharField(source="get_key_display", read_only=True)

    class Meta:
        model = EvaluationIndicator
        fields = ["key", "label", "weight", "target", "note"]


class EvaluationSchemeSerializer(serializers.ModelSerializer):
    indicators = EvaluationIndicatorSerializer(many=True, read_only=True)

    class Meta:
        model = EvaluationScheme
        fields = ["id", "name", "version", "source", "is_active", "indicators", "created_at"]


class EvaluationIndicatorInputSerializer(serializers.Serializer):
    key = serializers.ChoiceField(choices=IndicatorKey.choices)
    weight = serializers.DecimalField(max_digits=6, decimal_places=2, min_value=Decimal("0.01"))
    target = serializers.DecimalField(max_digits=18, decimal_places=6, min_value=Decimal("0.000001"))
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class EvaluationSchemeCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    version = serializers.CharField(max_length=20)
    source = serializers.CharField(max_length=300)
    indicators = EvaluationIndicatorInputSerializer(many=True, allow_empty=False)


@extend_schema(tags=["projects: performance"])
class EvaluationSchemeViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = EvaluationSchemeSerializer
    filterset_class = SchemeFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return EvaluationScheme.objects.none()
        _require(may_read(self.request.user))
        return schemes_for(self.request.user).order_by("-pk")

    def _respond(self, scheme, code=status.HTTP_200_OK):
        return Response(self.get_serializer(self.get_queryset().get(pk=scheme.pk)).data, status=code)

    @extend_schema(
        summary="新建绩效评价方案（各指标权重合计须恰好为 100）",
        request=EvaluationSchemeCreateSerializer,
        responses={201: EvaluationSchemeSerializer, 400: ERROR, 403: ERROR, 409: ERROR},
        examples=[
            OpenApiExample(
                "四因素",
                value={
                    "name": "丽水市两山合作社建设绩效评价办法（试行）",
                    "version": "2026-1",
                    "source": "市两山合作社 2026 年第 3 次办公会议纪要",
                    "indicators": [
                        {"key": "resource_activation", "weight": "25", "target": "0.6"},
                        {"key": "investment_attracted", "weight": "20", "target": "100000000"},
                        {"key": "projects_admitted", "weight": "10", "target": "5"},
                        {"key": "financial_leverage", "weight": "20", "target": "10"},
                        {"key": "farmer_income", "weight": "25", "target": "10000000"},
                    ],
                },
                request_only=True,
            )
        ],
    )
    def create(self, request):
        _require(may_manage_schemes(request.user))
        payload = EvaluationSchemeCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        scheme = services.create_scheme(actor=request.user, **payload.validated_data)
        return self._respond(scheme, status.HTTP_201_CREATED)

    @extend_schema(
        summary="停用评价方案",
        request=None,
        responses={200: EvaluationSchemeSerializer, 403: ERROR, 409: ERROR},
    )
    @action(detail=True, methods=["post"])
    def deactivate(self, request, pk=None):
        scheme = self.get_object()
        services.deactivate_scheme(actor=request.user, scheme=scheme)
        return self._respond(scheme)


# --- evaluations ------------------------------------------------------------------------------


class PerformanceEvaluationSerializer(serializers.ModelSerializer):
    scheme_version = serializers.CharField(source="scheme.version", read_only=True)
    cooperative_name = serializers.CharField(source="cooperative.name", read_only=True)
    division_code = serializers.CharField(source="cooperative.division.code", read_only=True)
    level = serializers.CharField(source="cooperative.division.level", read_only=True)
    computed_by = serializers.CharField(source="computed_by.__str__", read_only=True)

    class Meta:
        model = PerformanceEvaluation
        fields = [
            "id",
            "scheme",
            "scheme_version",
            "cooperative",
            "cooperative_name",
            "division_code",
            "level",
            "period_start",
            "period_end",
            "total_score",
            "rank",
            "peer_count",
            "indicators",
            "computed_by",
            "computed_at",
        ]


class PerformancePeriodSerializer(serializers.Serializer):
    scheme = serializers.PrimaryKeyRelatedField(queryset=EvaluationScheme.objects.all())
    period_start = serializers.DateField()
    period_end = serializers.DateField(help_text="不含当日")


class PerformanceEvaluateSerializer(PerformancePeriodSerializer):
    cooperative = serializers.IntegerField()


class PerformanceEvaluatePeersSerializer(PerformancePeriodSerializer):
    level = serializers.ChoiceField(choices=LEVEL_CHOICES, default=DivisionLevel.COUNTY)


@extend_schema(tags=["projects: performance"])
class PerformanceEvaluationViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = PerformanceEvaluationSerializer
    filterset_class = EvaluationFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return PerformanceEvaluation.objects.none()
        _require(may_read(self.request.user))
        return evaluations_for(self.request.user).order_by(
            "-period_end", "scheme_id", "rank", "cooperative__division__code", "pk"
        )

    def _respond(self, evaluation, code):
        return Response(self.get_serializer(self.get_queryset().get(pk=evaluation.pk)).data, status=code)

    @extend_schema(
        summary="评价一个合作社（同一方案和评价期重复提交按最新台账覆盖）",
        request=PerformanceEvaluateSerializer,
        responses={201: PerformanceEvaluationSerializer, 400: ERROR, 403: ERROR, 404: ERROR, 409: ERROR},
    )
    def create(self, request):
        _require(may_evaluate_any(request.user))
        payload = PerformanceEvaluateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        cooperative = get_object_or_404(evaluable_cooperatives(request.user), pk=data["cooperative"])
        evaluation = services.evaluate_cooperative(
            actor=request.user,
            scheme=data["scheme"],
            cooperative=cooperative,
            period_start=data["period_start"],
            period_end=data["period_end"],
        )
        return self._respond(evaluation, status.HTTP_201_CREATED)

    @extend_schema(
        summary="评价辖区内同级全部合作社并排名（并列同名次，其后名次顺延）",
        request=PerformanceEvaluatePeersSerializer,
        responses={201: PerformanceEvaluationSerializer(many=True), 400: ERROR, 403: ERROR, 409: ERROR},
    )
    @action(detail=False, methods=["post"])
    def peers(self, request):
        _require(may_evaluate_any(request.user))
        payload = PerformanceEvaluatePeersSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        evaluations = services.evaluate_peers(actor=request.user, **payload.validated_data)
        rows = self.get_queryset().filter(pk__in=[e.pk for e in evaluations]).order_by("rank", "pk")
        return Response(self.get_serializer(rows, many=True).data, status=status.HTTP_201_CREATED)


def register(router):
    router.register("evaluation-schemes", EvaluationSchemeViewSet, basename="evaluation-scheme")
    router.register("performance", PerformanceEvaluationViewSet, basename="performance-evaluation")
