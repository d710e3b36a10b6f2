"""`savings-slips`: 生态资源储蓄单 within the caller's reach (staff, city administrators and
auditors: their divisions; village clerks: their village; everyone else an empty list). Staff
issue the slips of a signed savings contract (`issue`, idempotent) and cancel a slip (`cancel`);
the rules are those of transactions.services.savings, as on the web pages. Holders appear by
name and party id only (no ID or phone numbers). Verification is the public check page."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response

from directory.permissions import Capability, can
from tmcs.errors import PermissionDeniedError

from ..forms.savings import SlipFilter
from ..models import SavingsSlip
from ..selectors_collection import collection_contracts_for
from ..selectors_savings import slips_for
from ..services import savings as services

ERROR = OpenApiResponse(description="{code, detail, fields}")


class SlipSerializer(serializers.ModelSerializer):
    contract_number = serializers.CharField(source="contract.number")
    holder_name = serializers.CharField(source="holder.__str__")
    asset_code = serializers.CharField(source="asset.code")
    division = serializers.CharField(source="contract.division.code")
    share = serializers.SerializerMethodField()
    is_pledged = serializers.BooleanField(read_only=True)

    class Meta:
        model = SavingsSlip
        fields = [
            "id",
            "number",
            "verification_code",
            "status",
            "contract",
            "contract_number",
            "division",
            "holder",
            "holder_name",
            "asset",
            "asset_code",
            "income_right",
            "share",
            "share_numerator",
            "share_denominator",
            "start_date",
            "end_date",
            "guaranteed_annual_amount",
            "dividend_rate",
            "dividend_rule",
            "is_pledged",
            "issued_at",
            "ended_at",
            "end_reason",
        ]

    def get_share(self, slip) -> str:
        if slip.share_numerator == slip.share_denominator:
            return "1"
        return f"{slip.share_numerator}/{slip.share_denominator}"


class SlipDetailSerializer(SlipSerializer):
    class Meta(SlipSerializer.Meta):
        fields = [*SlipSerializer.Meta.fields, "calculation"]


class IssueSerializer(serializers.Serializer):
    contract = serializers.IntegerField(min_value=1, help_text="储蓄分红模式的流转收储合同 id")


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


class IssueResultSerializer(serializers.Serializer):
    created = serializers.IntegerField(help_text="本次新签发的张数")
    slips = SlipSerializer(many=True)


@extend_schema_view(
    list=extend_schema(summary="生态资源储蓄单列表"),
    retrieve=extend_schema(summary="生态资源储蓄单详情（含计算过程）"),
)
class SavingsSlipViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    filterset_class = SlipFilter
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return slips_for(self.request.user).order_by("-issued_at", "-pk")

    def get_serializer_class(self):
        return SlipSerializer if self.action == "list" else SlipDetailSerializer

    @extend_schema(
        summary="签发储蓄单：为储蓄分红合同的每个收益人 × 资源签发一张（重复调用不重复签发）",
        request=IssueSerializer,
        responses={
            201: IssueResultSerializer,
            200: IssueResultSerializer,
            400: ERROR,
            403: ERROR,
            404: ERROR,
        },
    )
    @action(detail=False, methods=["post"])
    def issue(self, request):
        if not can(request.user, Capability.MANAGE_TRADING):
            raise PermissionDeniedError(_("您没有权限执行此操作。"))
        payload = IssueSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        contract = get_object_or_404(
            collection_contracts_for(request.user), pk=payload.validated_data["contract"]
        )
        before = set(contract.savings_slips.values_list("pk", flat=True))
        issued = services.issue_slips(actor=request.user, contract=contract)
        created = sum(1 for slip in issued if slip.pk not in before)
        slips = list(
            self.get_queryset().filter(pk__in=[slip.pk for slip in issued]).order_by("asset_id", "holder_id")
        )
        body = {"created": created, "slips": SlipSerializer(slips, many=True).data}
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(
        summary="注销储蓄单：收益权随之终止（已质押的须先解除质押）",
        request=CancelSerializer,
        responses={200: SlipDetailSerializer, 400: ERROR, 403: ERROR, 404: ERROR, 409: ERROR},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        slip = self.get_object()
        payload = CancelSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.cancel_slip(actor=request.user, slip=slip, reason=payload.validated_data["reason"])
        slip = get_object_or_404(self.get_queryset(), pk=slip.pk)
        return Response(SlipDetailSerializer(slip).data)


def register(router):
    """Add this area's viewsets to the transactions API router."""
    router.register("savings-slips", SavingsSlipViewSet, basename="savings-slip")
