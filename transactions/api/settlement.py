"""Settlement API: movements with their postings, balances, distributions (staff declare and pay)
and investor payments (POST, Idempotency-Key honoured through the ledger's key)."""

from django.db.models import Prefetch
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response

from directory.permissions import Capability
from directory.selectors import within_reach
from tmcs.errors import DomainError
from valuation.api.idempotency import HEADER, KEY_PATTERN

from ..forms.settlement import DistributionFilter, MovementFilter
from ..models import CollectionContract, Distribution, DistributionKind, Movement, Posting, TradeContract
from ..selectors_ledger import balance_table, distributions_for, movements_for
from ..services import distribution as distribution_services
from ..services import settlement as settlement_services

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="重试同一付款时带上同一个键：返回首次登记的凭证（200），不会重复收款。",
)


class PostingSerializer(serializers.ModelSerializer):
    account_kind = serializers.CharField(source="account.kind")
    party = serializers.IntegerField(source="account.party_id")
    party_name = serializers.CharField(source="account.party.__str__")

    class Meta:
        model = Posting
        fields = ["account_kind", "party", "party_name", "amount"]


class MovementSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display")
    total = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True)
    trade_contract = serializers.SlugRelatedField(slug_field="number", read_only=True)
    collection_contract = serializers.SlugRelatedField(slug_field="number", read_only=True)
    postings = PostingSerializer(many=True, read_only=True)

    class Meta:
        model = Movement
        fields = [
            "id",
            "kind",
            "kind_display",
            "occurred_on",
            "recorded_at",
            "memo",
            "reference",
            "total",
            "trade_contract",
            "collection_contract",
            "distribution",
            "listing",
            "reverses",
            "postings",
        ]


class MovementViewSet(viewsets.ReadOnlyModelViewSet):
    """记账凭证 within the caller's reach (investors: movements on their own accounts)."""

    serializer_class = MovementSerializer
    filterset_class = MovementFilter
    queryset = Movement.objects.none()

    def get_queryset(self):
        postings = Posting.objects.select_related(
            "account__party__person", "account__party__organization"
        ).order_by("pk")
        return (
            movements_for(self.request.user)
            .prefetch_related(Prefetch("postings", queryset=postings))
            .order_by("-occurred_on", "-pk")
        )


class BalanceSerializer(serializers.Serializer):
    party = serializers.IntegerField(source="party.pk")
    party_name = serializers.CharField(source="party.__str__")
    payable = serializers.DecimalField(max_digits=16, decimal_places=2)
    receivable = serializers.DecimalField(max_digits=16, decimal_places=2)
    deposit_held = serializers.DecimalField(max_digits=16, decimal_places=2)
    cash = serializers.DecimalField(max_digits=16, decimal_places=2)


class BalanceViewSet(viewsets.ViewSet):
    """Per party: payable, receivable, deposits held and cash, from the postings within reach."""

    @extend_schema(summary="往来余额", responses=BalanceSerializer(many=True))
    def list(self, request):
        rows, totals = balance_table(request.user)
        return Response(
            {
                "results": BalanceSerializer(rows, many=True).data,
                "totals": {key: str(value) for key, value in totals.items()},
            }
        )


class DistributionLineSerializer(serializers.Serializer):
    beneficiary = serializers.IntegerField(source="beneficiary_id")
    party = serializers.IntegerField(source="beneficiary.party_id")
    party_name = serializers.CharField(source="beneficiary.party.__str__")
    share = serializers.CharField(source="beneficiary.share_display")
    amount = serializers.DecimalField(max_digits=16, decimal_places=2)


class DistributionSerializer(serializers.ModelSerializer):
    contract = serializers.SlugRelatedField(slug_field="number", read_only=True)
    lines = DistributionLineSerializer(many=True, read_only=True)

    class Meta:
        model = Distribution
        fields = [
            "id",
            "contract",
            "kind",
            "period_start",
            "period_end",
            "income",
            "guaranteed_paid",
            "amount",
            "calculation",
            "created_at",
            "lines",
        ]


class DistributionCreateSerializer(serializers.Serializer):
    contract = serializers.PrimaryKeyRelatedField(queryset=CollectionContract.objects.none())
    kind = serializers.ChoiceField(choices=DistributionKind.choices)
    period_start = serializers.DateField()
    period_end = serializers.DateField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is None:  # schema generation
            return
        user = request.user
        self.fields["contract"].queryset = CollectionContract.objects.filter(
            within_reach(user, "division__code", Capability.MANAGE_TRADING)
        )


class PayoutSerializer(serializers.Serializer):
    occurred_on = serializers.DateField()
    reference = serializers.CharField(max_length=60)


class DistributionViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """收益分配: list and read within reach; cooperative staff declare and pay."""

    serializer_class = DistributionSerializer
    filterset_class = DistributionFilter
    queryset = Distribution.objects.none()

    def get_queryset(self):
        return (
            distributions_for(self.request.user)
            .prefetch_related("lines__beneficiary__party__person", "lines__beneficiary__party__organization")
            .order_by("-period_end", "-pk")
        )

    @extend_schema(
        summary="确认收益分配", request=DistributionCreateSerializer, responses={201: DistributionSerializer}
    )
    def create(self, request, *args, **kwargs):
        payload = DistributionCreateSerializer(data=request.data, context={"request": request})
        payload.is_valid(raise_exception=True)
        distribution = distribution_services.declare_distribution(
            actor=request.user, **payload.validated_data
        )
        data = self.get_serializer(self.get_queryset().get(pk=distribution.pk)).data
        return Response(data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="支付收益分配", request=PayoutSerializer, responses={201: MovementSerializer})
    @action(detail=True, methods=["post"])
    def pay(self, request, pk=None):
        payload = PayoutSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        movement = distribution_services.pay_distribution(
            actor=request.user, distribution=self.get_object(), **payload.validated_data
        )
        return Response(MovementSerializer(_with_postings(movement)).data, status=status.HTTP_201_CREATED)


def _with_postings(movement):
    return Movement.objects.prefetch_related("postings__account__party").get(pk=movement.pk)


class PaymentSerializer(serializers.Serializer):
    contract = serializers.PrimaryKeyRelatedField(queryset=TradeContract.objects.none())
    # A string so that the service reports sub-cent or malformed amounts in its own words.
    amount = serializers.CharField(max_length=30)
    occurred_on = serializers.DateField()
    reference = serializers.CharField(max_length=60)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = self.context["request"].user
        self.fields["contract"].queryset = TradeContract.objects.filter(
            within_reach(user, "division__code", Capability.MANAGE_TRADING)
        )


class PaymentViewSet(viewsets.GenericViewSet):
    """收到交易价款 on a trade contract (cooperative staff)."""

    serializer_class = PaymentSerializer
    queryset = Movement.objects.none()

    @extend_schema(
        summary="登记投资方付款",
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={201: MovementSerializer, 200: MovementSerializer},
    )
    def create(self, request):
        payload = self.get_serializer(data=request.data)
        payload.is_valid(raise_exception=True)
        key = _ledger_key(request)
        replayed = bool(key) and Movement.objects.filter(idempotency_key=key).exists()
        movement = settlement_services.record_investor_payment(
            actor=request.user, idempotency_key=key, **payload.validated_data
        )
        movement = get_object_or_404(MovementViewSet(request=request).get_queryset(), pk=movement.pk)
        headers = {"Idempotent-Replayed": "true"} if replayed else {}
        code = status.HTTP_200_OK if replayed else status.HTTP_201_CREATED
        return Response(MovementSerializer(movement).data, status=code, headers=headers)


def _ledger_key(request):
    """The ledger's idempotency key for the request's header, per user (None without one)."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    key = key.strip()
    if not KEY_PATTERN.fullmatch(key) or len(key) > 80:
        message = _("Idempotency-Key 须为 1 至 80 个可见 ASCII 字符。")
        raise DomainError(message, code="invalid", fields={HEADER: [message]})
    return f"api:{request.user.pk}:{key}"


def register(router):
    """Add this area's viewsets to the transactions API router."""
    router.register("movements", MovementViewSet, basename="movement")
    router.register("balances", BalanceViewSet, basename="balance")
    router.register("distributions", DistributionViewSet, basename="distribution")
    router.register("payments", PaymentViewSet, basename="payment")
