"""`/api/v1/transactions/trade-contracts/`: contracts with their assets and installments; staff
create (Idempotency-Key honoured: a contract creates money owed), sign, terminate and renew;
investors read their own organization's contracts."""

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from directory.permissions import Capability, can
from tmcs.errors import PermissionDeniedError
from valuation.api.idempotency import create_once, idempotent_request

from ..forms.contracts import TradeContractFilter
from ..models import PaymentFrequency, TradeContract, TradeContractItem, TradeInstallment
from ..selectors_contracts import contracts_for, sold_listings_for
from ..services import contracts as services

ERROR = OpenApiResponse(description="{code, detail, fields}")


class ItemSerializer(serializers.ModelSerializer):
    asset_code = serializers.CharField(source="asset.code")
    asset_name = serializers.CharField(source="asset.name")

    class Meta:
        model = TradeContractItem
        fields = ["asset", "asset_code", "asset_name", "lease", "right"]


class InstallmentSerializer(serializers.ModelSerializer):
    outstanding = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True)

    class Meta:
        model = TradeInstallment
        fields = ["sequence", "due_date", "amount", "paid_amount", "outstanding", "status"]


class TradeContractSerializer(serializers.ModelSerializer):
    listing_code = serializers.CharField(source="listing.code", default=None)
    investor_name = serializers.CharField(source="investor.name")
    cooperative_name = serializers.CharField(source="cooperative.name")
    division_code = serializers.CharField(source="division.code")
    items = ItemSerializer(many=True)
    installments = InstallmentSerializer(many=True)

    class Meta:
        model = TradeContract
        fields = [
            "id",
            "number",
            "listing",
            "listing_code",
            "investor",
            "investor_name",
            "cooperative",
            "cooperative_name",
            "division_code",
            "kind",
            "start_date",
            "end_date",
            "price",
            "payment_frequency",
            "obligations",
            "status",
            "signed_at",
            "ended_at",
            "end_reason",
            "renewal_of",
            "items",
            "installments",
        ]


class CreateSerializer(serializers.Serializer):
    listing = serializers.IntegerField()
    payment_frequency = serializers.ChoiceField(choices=PaymentFrequency.choices)
    obligations = serializers.CharField(required=False, allow_blank=True)


class TerminateSerializer(serializers.Serializer):
    effective_date = serializers.DateField()
    reason = serializers.CharField(max_length=500)


class RenewSerializer(serializers.Serializer):
    end_date = serializers.DateField()
    price = serializers.DecimalField(max_digits=16, decimal_places=2)
    payment_frequency = serializers.ChoiceField(choices=PaymentFrequency.choices)


class TradeContractViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = TradeContractSerializer
    filterset_class = TradeContractFilter

    def get_queryset(self):
        return (
            contracts_for(self.request.user)
            .defer("division__boundary")
            .prefetch_related(
                Prefetch("items", TradeContractItem.objects.select_related("asset").defer("asset__geometry")),
                "installments",
            )
            .order_by("-created_at", "-pk")
        )

    def _respond(self, contract, code=status.HTTP_200_OK, **kwargs):
        return Response(
            self.get_serializer(self.get_queryset().get(pk=contract.pk)).data, status=code, **kwargs
        )

    @extend_schema(
        summary="由已成交的挂牌项目生成交易合同草稿",
        request=CreateSerializer,
        responses={201: TradeContractSerializer, 400: ERROR, 403: ERROR, 409: ERROR},
    )
    def create(self, request):
        if not can(request.user, Capability.MANAGE_TRADING):
            raise PermissionDeniedError(_("您没有权限执行此操作。"))
        idempotent = idempotent_request(request, "transactions.create_trade_contract")
        payload = CreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        replayed = idempotent.claim() if idempotent else None
        if replayed is not None:
            return self._respond(TradeContract(pk=replayed), headers={"Idempotent-Replayed": "true"})
        data = dict(payload.validated_data)
        listing = get_object_or_404(sold_listings_for(request.user), pk=data.pop("listing"))
        contract = create_once(
            idempotent, lambda: services.create_trade_contract(actor=request.user, listing=listing, **data)
        )
        return self._respond(contract, status.HTTP_201_CREATED)

    @extend_schema(
        summary="签订合同（登记租赁/权利，确认应收价款，保证金转价款）",
        request=None,
        responses={200: TradeContractSerializer, 403: ERROR, 404: ERROR, 409: ERROR},
    )
    @action(detail=True, methods=["post"])
    def sign(self, request, pk=None):
        return self._respond(services.sign_trade_contract(actor=request.user, contract=self.get_object()))

    @extend_schema(
        summary="解除合同",
        request=TerminateSerializer,
        responses={200: TradeContractSerializer, 400: ERROR, 403: ERROR, 404: ERROR, 409: ERROR},
    )
    @action(detail=True, methods=["post"])
    def terminate(self, request, pk=None):
        contract = self.get_object()
        payload = TerminateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        return self._respond(
            services.terminate_trade_contract(actor=request.user, contract=contract, **payload.validated_data)
        )

    @extend_schema(
        summary="续签（生成续签合同草稿）",
        request=RenewSerializer,
        responses={201: TradeContractSerializer, 400: ERROR, 403: ERROR, 404: ERROR, 409: ERROR},
    )
    @action(detail=True, methods=["post"])
    def renew(self, request, pk=None):
        contract = self.get_object()
        payload = RenewSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        renewal = services.renew_trade_contract(
            actor=request.user, contract=contract, **payload.validated_data
        )
        return self._respond(renewal, status.HTTP_201_CREATED)


def register(router):
    """Add this area's viewsets to the transactions API router."""
    router.register("trade-contracts", TradeContractViewSet, basename="trade-contract")
