"""Valuation API: accounting runs (start, follow, cancel, accept), their results and rollups, the
latest accepted valuation of an asset, and the parameter sets. Reads go through the selectors
(the user's reach), writes through valuation.services, as on the web pages."""

from django.db.models import Count, F, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response

from directory.permissions import Capability, can
from resources.selectors import assets_for
from tmcs.errors import PermissionDeniedError

from .. import services
from ..models import AccountingRun, AssetResult, Rollup, RunChunk
from ..selectors import latest_asset_valuation, parameter_sets, runs_for
from . import serializers as s
from .filters import ResultFilter, RollupFilter, RunFilter
from .idempotency import HEADER as IDEMPOTENCY_HEADER
from .idempotency import create_once, idempotent_request

ERROR = OpenApiResponse(description="{code, detail, fields}")
IDEMPOTENCY_PARAMETER = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="重试同一请求时带上同一个键：同键同内容返回首次创建的核算（200），同键不同内容返回 409。",
)


class NoValuation(NotFound):
    default_code = "no_accepted_valuation"


def _with_progress(runs):
    done = (
        RunChunk.objects.filter(run=OuterRef("pk"), done_at__isnull=False)
        .order_by()
        .values("run")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return runs.annotate(done_chunks=Coalesce(Subquery(done, output_field=IntegerField()), 0))


def _visible_run(request, pk):
    return get_object_or_404(runs_for(request.user), pk=pk)


@extend_schema_view(
    list=extend_schema(summary="核算批次列表"),
    retrieve=extend_schema(summary="核算批次详情：状态、进度、合计与提示"),
)
class RunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """GEP accounting runs over divisions within the caller's reach."""

    serializer_class = s.RunSerializer
    filterset_class = RunFilter
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return _with_progress(runs_for(self.request.user)).order_by("-created_at", "-pk")

    def _respond(self, run, status_code=status.HTTP_200_OK, headers=None):
        run = self.get_queryset().get(pk=run.pk)
        return Response(self.get_serializer(run).data, status=status_code, headers=headers)

    @extend_schema(
        summary="发起核算（冻结输入、锁定参数集、分块排队计算）",
        request=s.RunStartSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={201: s.RunSerializer, 200: s.RunSerializer, 400: ERROR, 403: ERROR, 409: ERROR},
    )
    def create(self, request, *args, **kwargs):
        if not can(request.user, Capability.RUN_VALUATION):
            raise PermissionDeniedError(_("您没有权限执行此操作。"))
        idempotent = idempotent_request(request, "valuation.start_run")
        payload = s.RunStartSerializer(data=request.data, context=self.get_serializer_context())
        payload.is_valid(raise_exception=True)
        replayed = idempotent.claim() if idempotent else None
        if replayed is not None:
            run = get_object_or_404(runs_for(request.user), pk=replayed)
            return self._respond(run, headers={"Idempotent-Replayed": "true"})
        data = payload.validated_data
        run = create_once(
            idempotent,
            lambda: services.start_run(
                actor=request.user,
                division=data["division"],
                year=data["year"],
                parameter_set=data["parameter_set"],
                price_basis=data["price_basis"],
                base_year=data.get("base_year"),
                assets=data.get("assets"),
            ),
        )
        location = request.build_absolute_uri(f"{request.path}{run.pk}/")
        return self._respond(run, status.HTTP_201_CREATED, headers={"Location": location})

    @extend_schema(
        summary="取消核算", request=None, responses={200: s.RunSerializer, 403: ERROR, 404: ERROR, 409: ERROR}
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        run = services.cancel_run(actor=request.user, run=_visible_run(request, pk))
        return self._respond(run)

    @extend_schema(
        summary="采纳核算结果（须由发起人以外的人员）",
        request=None,
        responses={200: s.RunSerializer, 403: ERROR, 404: ERROR, 409: ERROR},
    )
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        run = services.accept_run(actor=request.user, run=_visible_run(request, pk))
        return self._respond(run)


@extend_schema(summary="核算批次的资产 × 指标结果")
class RunResultsView(generics.ListAPIView):
    serializer_class = s.AssetResultSerializer
    filterset_class = ResultFilter
    queryset = AssetResult.objects.none()  # for the schema generator, which has no run

    def get_queryset(self):
        run = _visible_run(self.request, self.kwargs["pk"])
        return (
            AssetResult.objects.filter(run=run)
            .annotate(asset_code=F("asset__code"))
            .defer("components", "notes")
            .order_by("asset_id", "indicator_key")
        )


@extend_schema(summary="核算批次的区划汇总")
class RunRollupsView(generics.ListAPIView):
    serializer_class = s.RollupSerializer
    filterset_class = RollupFilter
    queryset = Rollup.objects.none()

    def get_queryset(self):
        run = _visible_run(self.request, self.kwargs["pk"])
        return (
            Rollup.objects.filter(run=run)
            .select_related("division")
            .only("indicator_key", "category", "value", "division__code", "division__name", "division__level")
            .order_by("division__code", "indicator_key")
        )


class AssetValuationView(generics.GenericAPIView):
    """The latest accepted GEP valuation of an asset the caller may see (banks: assets they hold
    a pledge on)."""

    serializer_class = s.AssetValuationSerializer
    queryset = AccountingRun.objects.none()
    pagination_class = None
    filter_backends = []

    @extend_schema(
        summary="资产最新已采纳的 GEP 核算值",
        responses={200: s.AssetValuationSerializer, 404: ERROR},
    )
    def get(self, request, code):
        asset = get_object_or_404(assets_for(request.user).select_related(None).only("pk", "code"), code=code)
        valuation = latest_asset_valuation(asset)
        if valuation is None:
            raise NoValuation(_("该资产尚无已采纳的 GEP 核算结果。"))
        data = self.get_serializer({"asset_code": asset.code, "valuation": valuation}).data
        return Response(data)


@extend_schema_view(
    list=extend_schema(summary="参数集列表（含参数值与来源）"), retrieve=extend_schema(summary="参数集")
)
class ParameterSetViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = s.ParameterSetSerializer
    queryset = parameter_sets().none()

    def get_queryset(self):
        return parameter_sets().prefetch_related("values").order_by("name", "-version")
