"""`/api/v1/finance/risk-funds/`, `/risk-schemes/` and `/defaults/`.

Cooperative staff set up funds and record contributions (an `Idempotency-Key` makes a retried
contribution count once: the key is kept with the ledger movement), define risk-sharing schemes,
declare defaults and run the disposal (`buy-back`, `compensate`). A bank reads the schemes of its
own products and the funds behind them, and the defaults of its own loans only (404 otherwise); it
cannot declare or dispose. No personal data is returned (borrowers appear by party id only)."""

from decimal import Decimal

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.settings import api_settings

from directory.models import AdministrativeDivision, Organization
from directory.permissions import Capability, can
from tmcs.errors import DomainError, PermissionDeniedError
from transactions.models import Movement
from valuation.api.idempotency import create_once, idempotent_request

from ..forms.risk import DefaultFilter, FundFilter, SchemeFilter
from ..idempotency import HEADER, header_key
from ..models import (
    Disposal,
    LoanDefault,
    LossAllocation,
    Pledge,
    RiskCompensationFund,
    RiskRole,
    RiskShare,
    RiskSharingScheme,
)
from ..selectors_risk import defaults_for, funds_for, loans_for_defaults, schemes_for, with_balance
from ..services import defaults as default_services
from ..services import risk as services
from .throttling import BankRateThrottle

ERROR = OpenApiResponse(description="{code, detail, fields}")
THROTTLES = [*api_settings.DEFAULT_THROTTLE_CLASSES, BankRateThrottle]
KEY_PARAMETER = OpenApiParameter(
    HEADER,
    str,
    OpenApiParameter.HEADER,
    description="1–255 个可见 ASCII 字符；同一键的重复请求只执行一次，返回首次结果",
)


def _require_staff(user):
    if not can(user, Capability.MANAGE_LOANS):
        raise PermissionDeniedError(_("您没有权限执行此操作。"))


# --- funds ------------------------------------------------------------------------------------


class FundSerializer(serializers.ModelSerializer):
    manager_name = serializers.CharField(source="manager.name")
    division_code = serializers.CharField(source="division.code")
    balance = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True)

    class Meta:
        model = RiskCompensationFund
        fields = ["id", "name", "manager", "manager_name", "division_code", "source", "balance", "created_at"]


class FundCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    manager = serializers.PrimaryKeyRelatedField(queryset=Organization.objects.filter(is_active=True))
    division = serializers.SlugRelatedField(slug_field="code", queryset=AdministrativeDivision.objects.all())
    source = serializers.CharField(max_length=200)


class ContributionSerializer(serializers.Serializer):
    contributor = serializers.PrimaryKeyRelatedField(queryset=Organization.objects.filter(is_active=True))
    amount = serializers.DecimalField(max_digits=16, decimal_places=2, min_value=Decimal("0.01"))
    occurred_on = serializers.DateField()
    reference = serializers.CharField(max_length=60)


class ContributionResultSerializer(serializers.Serializer):
    movement = serializers.IntegerField()
    occurred_on = serializers.DateField()
    reference = serializers.CharField()
    amount = serializers.DecimalField(max_digits=16, decimal_places=2)
    balance = serializers.DecimalField(max_digits=16, decimal_places=2)


@extend_schema(tags=["finance: risk sharing"])
class RiskFundViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = FundSerializer
    filterset_class = FundFilter
    throttle_classes = THROTTLES

    def get_queryset(self):
        return with_balance(funds_for(self.request.user)).order_by("name", "pk")

    def _respond(self, fund, code=status.HTTP_200_OK):
        return Response(self.get_serializer(self.get_queryset().get(pk=fund.pk)).data, status=code)

    @extend_schema(
        summary="设立风险补偿基金",
        request=FundCreateSerializer,
        responses={201: FundSerializer, 400: ERROR, 403: ERROR, 409: ERROR},
    )
    def create(self, request):
        _require_staff(request.user)
        payload = FundCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        fund = services.create_fund(actor=request.user, **payload.validated_data)
        return self._respond(fund, status.HTTP_201_CREATED)

    @extend_schema(
        summary="登记基金出资（支持 Idempotency-Key：重复请求只入账一次，状态码 200）",
        request=ContributionSerializer,
        parameters=[KEY_PARAMETER],
        responses={
            201: ContributionResultSerializer,
            200: ContributionResultSerializer,
            400: ERROR,
            403: ERROR,
            404: ERROR,
            409: ERROR,
        },
        examples=[
            OpenApiExample(
                "财政拨入",
                value={
                    "contributor": 7,
                    "amount": "5000000.00",
                    "occurred_on": "2026-03-01",
                    "reference": "CZ-2026-031",
                },
                request_only=True,
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def contribute(self, request, pk=None):
        fund = self.get_object()
        key = header_key(request)
        payload = ContributionSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        full_key = services.fund_idempotency_key(fund, key)
        replayed = full_key is not None and Movement.objects.filter(idempotency_key=full_key).exists()
        movement = services.contribute(
            actor=request.user, fund=fund, idempotency_key=key, **payload.validated_data
        )
        body = ContributionResultSerializer(
            {
                "movement": movement.pk,
                "occurred_on": movement.occurred_on,
                "reference": movement.reference,
                "amount": payload.validated_data["amount"],
                "balance": services.fund_balance(fund),
            }
        ).data
        if replayed:
            return Response(body, headers={"Idempotent-Replayed": "true"})
        return Response(body, status=status.HTTP_201_CREATED)


# --- schemes ----------------------------------------------------------------------------------


class ShareSerializer(serializers.ModelSerializer):
    party_name = serializers.CharField(source="party.organization.name", default=None)

    class Meta:
        model = RiskShare
        fields = ["role", "party", "party_name", "share"]


class SchemeSerializer(serializers.ModelSerializer):
    division_code = serializers.CharField(source="division.code")
    shares = ShareSerializer(many=True)

    class Meta:
        model = RiskSharingScheme
        fields = ["id", "name", "division_code", "fund", "source", "is_active", "shares", "created_at"]


class ShareInputSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=RiskRole.choices)
    organization = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.filter(is_active=True), required=False, allow_null=True
    )
    share = serializers.DecimalField(max_digits=7, decimal_places=6)


class SchemeCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    division = serializers.SlugRelatedField(slug_field="code", queryset=AdministrativeDivision.objects.all())
    fund = serializers.IntegerField(required=False, allow_null=True)
    source = serializers.CharField(max_length=200)
    shares = ShareInputSerializer(many=True)


@extend_schema(tags=["finance: risk sharing"])
class RiskSchemeViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = SchemeSerializer
    filterset_class = SchemeFilter
    throttle_classes = THROTTLES

    def get_queryset(self):
        return schemes_for(self.request.user).order_by("-created_at", "-pk")

    @extend_schema(
        summary="新建风险分担方案（各方比例合计须恰好为 1）",
        request=SchemeCreateSerializer,
        responses={201: SchemeSerializer, 400: ERROR, 403: ERROR, 404: ERROR},
        examples=[
            OpenApiExample(
                "4:3:2:1",
                value={
                    "name": "莲都区生态贷风险分担",
                    "division": "331102000000",
                    "fund": 1,
                    "source": "参照安徽“4321”模式",
                    "shares": [
                        {"role": "guarantor", "organization": 5, "share": "0.4"},
                        {"role": "cooperative", "organization": 2, "share": "0.3"},
                        {"role": "bank", "organization": 4, "share": "0.2"},
                        {"role": "government_fund", "share": "0.1"},
                    ],
                },
                request_only=True,
            )
        ],
    )
    def create(self, request):
        _require_staff(request.user)
        payload = SchemeCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        fund = get_object_or_404(funds_for(request.user), pk=data["fund"]) if data.get("fund") else None
        scheme = services.create_scheme(
            actor=request.user,
            name=data["name"],
            division=data["division"],
            fund=fund,
            source=data["source"],
            shares=[(s["role"], s.get("organization"), s["share"]) for s in data["shares"]],
        )
        return Response(
            self.get_serializer(self.get_queryset().get(pk=scheme.pk)).data, status=status.HTTP_201_CREATED
        )


# --- defaults ---------------------------------------------------------------------------------


class AllocationSerializer(serializers.ModelSerializer):
    party_name = serializers.CharField(source="party.organization.name", default=None)

    class Meta:
        model = LossAllocation
        fields = ["role", "party", "party_name", "share", "amount"]


class WaterfallLineSerializer(serializers.Serializer):
    to = serializers.CharField(help_text="bank / borrower / 分担方角色")
    party = serializers.IntegerField()
    what = serializers.CharField(help_text="penalty / interest / principal / surplus / loss_share")
    amount = serializers.DecimalField(max_digits=16, decimal_places=2)


class DisposalSerializer(serializers.ModelSerializer):
    waterfall = WaterfallLineSerializer(many=True)
    allocations = AllocationSerializer(many=True)

    class Meta:
        model = Disposal
        fields = ["number", "method", "executed_on", "amount", "waterfall", "allocations", "source_document"]


class RemainingSerializer(serializers.Serializer):
    penalty = serializers.DecimalField(max_digits=16, decimal_places=2)
    interest = serializers.DecimalField(max_digits=16, decimal_places=2)
    principal = serializers.DecimalField(max_digits=16, decimal_places=2)


class DefaultSerializer(serializers.ModelSerializer):
    loan_number = serializers.CharField(source="loan.number")
    bank = serializers.IntegerField(source="loan.bank_id")
    borrower = serializers.IntegerField(source="loan.borrower_id", help_text="借款人主体 id（不返回姓名）")
    loan_status = serializers.CharField(source="loan.status")
    claim = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True)
    remaining = serializers.SerializerMethodField()
    disposals = DisposalSerializer(many=True)

    class Meta:
        model = LoanDefault
        fields = [
            "id",
            "loan",
            "loan_number",
            "loan_status",
            "bank",
            "borrower",
            "declared_on",
            "reason",
            "outstanding_principal",
            "outstanding_interest",
            "penalty",
            "claim",
            "remaining",
            "status",
            "disposals",
            "created_at",
        ]

    @extend_schema_field(RemainingSerializer)
    def get_remaining(self, default):
        return RemainingSerializer(default_services.remaining_claim(default)).data


class DeclareSerializer(serializers.Serializer):
    loan = serializers.IntegerField(min_value=1)
    reason = serializers.CharField(max_length=300)
    declared_on = serializers.DateField(required=False)


class BuyBackSerializer(serializers.Serializer):
    pledge = serializers.IntegerField(min_value=1)
    price = serializers.DecimalField(max_digits=16, decimal_places=2, min_value=Decimal("0.01"))
    executed_on = serializers.DateField()
    source_document = serializers.CharField(max_length=200)


class CompensateSerializer(serializers.Serializer):
    executed_on = serializers.DateField()
    source_document = serializers.CharField(max_length=200)


@extend_schema(tags=["finance: defaults"])
class LoanDefaultViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = DefaultSerializer
    filterset_class = DefaultFilter
    throttle_classes = THROTTLES

    def get_queryset(self):
        disposals = Disposal.objects.prefetch_related(
            Prefetch("allocations", LossAllocation.objects.select_related("party__organization"))
        ).order_by("pk")
        return (
            defaults_for(self.request.user)
            .prefetch_related(Prefetch("disposals", disposals))
            .order_by("-declared_on", "-pk")
        )

    def _respond(self, default, code=status.HTTP_200_OK, **kwargs):
        return Response(
            self.get_serializer(self.get_queryset().get(pk=default.pk)).data, status=code, **kwargs
        )

    @extend_schema(
        summary="认定违约（贷款须正常还款中且已逾期；银行不能认定）",
        request=DeclareSerializer,
        parameters=[KEY_PARAMETER],
        responses={201: DefaultSerializer, 400: ERROR, 403: ERROR, 404: ERROR, 409: ERROR},
    )
    def create(self, request):
        payload = DeclareSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        loan = get_object_or_404(loans_for_defaults(request.user), pk=data.pop("loan"))
        idempotent = idempotent_request(request, "finance.declare_default")
        replayed = idempotent.claim() if idempotent else None
        if replayed is not None:
            return self._respond(LoanDefault(pk=replayed), headers={"Idempotent-Replayed": "true"})
        default = create_once(
            idempotent, lambda: default_services.declare_default(actor=request.user, loan=loan, **data)
        )
        return self._respond(default, status.HTTP_201_CREATED)

    @extend_schema(
        summary="合作社回购抵质押物（价款先偿银行罚息、利息、本金，余款归借款人）",
        request=BuyBackSerializer,
        parameters=[KEY_PARAMETER],
        responses={200: DefaultSerializer, 400: ERROR, 403: ERROR, 404: ERROR, 409: ERROR},
    )
    @action(detail=True, methods=["post"], url_path="buy-back")
    def buy_back(self, request, pk=None):
        default = self.get_object()
        payload = BuyBackSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        pledge = Pledge.objects.filter(
            pk=data.pop("pledge"), application_id=default.loan.application_id
        ).first()
        if pledge is None:
            message = _("该抵质押不属于这笔贷款。")
            raise DomainError(message, code="invalid", fields={"pledge": [message]})
        return self._step(
            request,
            "finance.buy_back",
            lambda: default_services.buy_back(actor=request.user, default=default, pledge=pledge, **data),
        )

    @extend_schema(
        summary="按风险分担方案分担剩余损失并结案（基金余额不足时拒绝并给出缺口）",
        request=CompensateSerializer,
        parameters=[KEY_PARAMETER],
        responses={200: DefaultSerializer, 400: ERROR, 403: ERROR, 404: ERROR, 409: ERROR},
    )
    @action(detail=True, methods=["post"])
    def compensate(self, request, pk=None):
        default = self.get_object()
        payload = CompensateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        return self._step(
            request,
            "finance.compensate_loss",
            lambda: default_services.compensate_loss(
                actor=request.user, default=default, **payload.validated_data
            ),
        )

    def _step(self, request, scope, run):
        idempotent = idempotent_request(request, scope)
        replayed = idempotent.claim() if idempotent else None
        if replayed is not None:
            return self._respond(LoanDefault(pk=replayed), headers={"Idempotent-Replayed": "true"})
        disposal = create_once(idempotent, lambda: _as_default(run()))
        return self._respond(disposal)


def _as_default(disposal):
    """create_once records the pk of what it returns: for a disposal step, the default's."""
    return LoanDefault(pk=disposal.default_id)


def register(router):
    router.register("risk-funds", RiskFundViewSet, basename="risk-fund")
    router.register("risk-schemes", RiskSchemeViewSet, basename="risk-scheme")
    router.register("defaults", LoanDefaultViewSet, basename="loan-default")
