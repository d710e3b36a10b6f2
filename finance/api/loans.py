"""`/api/v1/finance/loans/`: the loan book for banks and cooperative staff.

A bank reads only its own loans (404 for any other), each with its position today (outstanding
principal, overdue amounts, penalty, days past due, bucket, 五级分类 floor, next installment);
reports a disbursement (`POST /loans/`) and repayments (`POST /loans/{id}/repayments/`), both
honouring a durable `Idempotency-Key` (a retry with the same key and body answers 200 with the
first result, even days later); reads the schedule, a statement for a period and the summary per
delinquency bucket. Every bank read of a borrower (a person) is noted in the API log."""

from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.settings import api_settings

from directory.middleware import note_personal_data
from directory.models import AccessChannel, ApiToken
from directory.permissions import Capability, can
from directory.services import log_person_reads
from tmcs.audit import client_ip
from tmcs.errors import PermissionDeniedError

from ..forms.loans import PREPAYMENT_CHOICES, LoanFilter
from ..idempotency import HEADER, Replay, fingerprint, header_key, key_owner, run_once
from ..models import DelinquencyBucket, Installment, Loan, LoanClassification, Repayment, RepaymentLine
from ..selectors_applications import applications_for
from ..selectors_loans import (
    bank_organizations,
    delinquency_summary,
    loan_list,
    loan_repayments,
)
from ..services import loans as services
from ..services.common import bank_of
from .throttling import BankRateThrottle

ERROR = OpenApiResponse(description="{code, detail, fields}")
THROTTLES = [*api_settings.DEFAULT_THROTTLE_CLASSES, BankRateThrottle]
MONEY = {"max_digits": 16, "decimal_places": 2}
KEY_PARAMETER = OpenApiParameter(
    HEADER,
    str,
    OpenApiParameter.HEADER,
    description="1–255 个可见 ASCII 字符；同一键、同一内容的重复请求返回首次结果（状态码 200），内容不同则 409",
)


def _note_bank_reads(request, parties):
    """Borrowers' names in a bank's response: token calls go to the API log with the persons and
    fields; a bank officer in the browser is logged as the web pages do (PIPL)."""
    if not bank_organizations(request.user):
        return
    persons = {p.person_id: p.person for p in parties if p is not None and p.person_id}
    if not persons:
        return
    note_personal_data(request, sorted(persons), ["name"])
    if not isinstance(request.auth, ApiToken):
        log_person_reads(
            actor=request.user,
            persons=list(persons.values()),
            channel=AccessChannel.API,
            ip=client_ip(request),
        )


# --- serializers -------------------------------------------------------------------------------


class LoanInstallmentSerializer(serializers.ModelSerializer):
    outstanding = serializers.DecimalField(read_only=True, **MONEY)

    class Meta:
        model = Installment
        fields = [
            "seq",
            "period_start",
            "due_date",
            "principal_due",
            "interest_due",
            "principal_paid",
            "interest_paid",
            "penalty_paid",
            "outstanding",
            "settled_on",
        ]


class LoanSerializer(serializers.ModelSerializer):
    application_number = serializers.CharField(source="application.number")
    bank_name = serializers.CharField(source="bank.name")
    borrower_name = serializers.StringRelatedField(source="borrower")
    borrower_kind = serializers.CharField(source="borrower.kind")
    product_code = serializers.CharField(source="product.code")
    division_code = serializers.CharField(source="division.code")
    # the position on `as_of` (today), from finance.services.loans.position
    as_of = serializers.DateField(source="_position.as_of", read_only=True)
    outstanding_principal = serializers.DecimalField(
        source="_position.outstanding_principal", read_only=True, **MONEY
    )
    overdue_principal = serializers.DecimalField(
        source="_position.overdue_principal", read_only=True, **MONEY
    )
    overdue_interest = serializers.DecimalField(source="_position.overdue_interest", read_only=True, **MONEY)
    penalty_accrued = serializers.DecimalField(source="_position.penalty_accrued", read_only=True, **MONEY)
    accrued_interest = serializers.DecimalField(source="_position.accrued_interest", read_only=True, **MONEY)
    payoff = serializers.DecimalField(source="_position.payoff", read_only=True, **MONEY)
    days_past_due = serializers.IntegerField(source="_position.days_past_due", read_only=True)
    bucket = serializers.ChoiceField(
        source="_position.bucket", choices=DelinquencyBucket.choices, read_only=True
    )
    classification = serializers.ChoiceField(
        source="_position.classification", choices=LoanClassification.choices, read_only=True
    )
    next_due_date = serializers.DateField(
        source="_position.next_installment.due_date", default=None, read_only=True
    )
    next_amount = serializers.DecimalField(
        source="_position.next_installment.outstanding", default=None, read_only=True, **MONEY
    )

    class Meta:
        model = Loan
        fields = [
            "id",
            "number",
            "application",
            "application_number",
            "bank",
            "bank_name",
            "bank_reference",
            "borrower",
            "borrower_name",
            "borrower_kind",
            "product",
            "product_code",
            "division_code",
            "principal",
            "annual_rate",
            "penalty_rate",
            "term_months",
            "repayment_method",
            "payment_frequency",
            "day_count",
            "disbursed_on",
            "maturity_date",
            "status",
            "closed_on",
            "as_of",
            "outstanding_principal",
            "overdue_principal",
            "overdue_interest",
            "penalty_accrued",
            "accrued_interest",
            "payoff",
            "days_past_due",
            "bucket",
            "classification",
            "next_due_date",
            "next_amount",
        ]

    def to_representation(self, instance):
        instance._position = services.position(instance, self.context.get("as_of"))
        return super().to_representation(instance)


class RepaymentLineSerializer(serializers.ModelSerializer):
    seq = serializers.IntegerField(source="installment.seq")

    class Meta:
        model = RepaymentLine
        fields = ["seq", "principal", "interest", "penalty"]


class RepaymentSerializer(serializers.ModelSerializer):
    lines = RepaymentLineSerializer(many=True)
    loan_number = serializers.CharField(source="loan.number")
    loan_status = serializers.CharField(source="loan.status")

    class Meta:
        model = Repayment
        fields = [
            "id",
            "loan",
            "loan_number",
            "loan_status",
            "kind",
            "paid_on",
            "amount",
            "principal_part",
            "interest_part",
            "penalty_part",
            "bank_reference",
            "recorded_at",
            "lines",
        ]


class DisbursementSerializer(serializers.Serializer):
    application = serializers.IntegerField(help_text="银行已批准的贷款申请 id")
    principal = serializers.DecimalField(**MONEY)
    disbursed_on = serializers.DateField()
    bank_reference = serializers.CharField(max_length=60, help_text="银行借据号（同一银行内唯一）")
    first_due_date = serializers.DateField(required=False, allow_null=True, default=None)


class RepaymentRequestSerializer(serializers.Serializer):
    amount = serializers.DecimalField(**MONEY)
    paid_on = serializers.DateField()
    bank_reference = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    prepayment = serializers.ChoiceField(choices=PREPAYMENT_CHOICES, default=services.SHORTEN_TERM)


class LoanStatementQuerySerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()


class LoanStatementRepaymentSerializer(RepaymentSerializer):
    class Meta(RepaymentSerializer.Meta):
        fields = [
            "id",
            "kind",
            "paid_on",
            "amount",
            "principal_part",
            "interest_part",
            "penalty_part",
            "bank_reference",
            "lines",
        ]


class LoanScheduledSerializer(serializers.Serializer):
    seq = serializers.IntegerField()
    due_date = serializers.DateField()
    principal_due = serializers.DecimalField(**MONEY)
    interest_due = serializers.DecimalField(**MONEY)
    principal_paid = serializers.DecimalField(**MONEY)
    interest_paid = serializers.DecimalField(**MONEY)
    penalty_paid = serializers.DecimalField(**MONEY)


class LoanStatementSerializer(serializers.Serializer):
    loan = serializers.IntegerField()
    start = serializers.DateField()
    end = serializers.DateField()
    opening_balance = serializers.DecimalField(**MONEY)
    disbursed = serializers.DecimalField(**MONEY)
    principal_paid = serializers.DecimalField(**MONEY)
    interest_paid = serializers.DecimalField(**MONEY)
    penalty_paid = serializers.DecimalField(**MONEY)
    scheduled_principal = serializers.DecimalField(**MONEY)
    scheduled_interest = serializers.DecimalField(**MONEY)
    closing_balance = serializers.DecimalField(**MONEY)
    penalty_unpaid = serializers.DecimalField(**MONEY)
    days_past_due = serializers.IntegerField()
    repayments = LoanStatementRepaymentSerializer(many=True)
    scheduled = LoanScheduledSerializer(many=True)


class DelinquencyBucketSerializer(serializers.Serializer):
    bucket = serializers.ChoiceField(choices=DelinquencyBucket.choices)
    label = serializers.CharField()
    count = serializers.IntegerField()
    outstanding = serializers.DecimalField(**MONEY)
    overdue_principal = serializers.DecimalField(**MONEY)


def _statement_data(statement):
    return {
        "loan": statement.loan.pk,
        "start": statement.start,
        "end": statement.end,
        "opening_balance": statement.opening_balance,
        "disbursed": statement.disbursed,
        "principal_paid": statement.principal_paid,
        "interest_paid": statement.interest_paid,
        "penalty_paid": statement.penalty_paid,
        "scheduled_principal": statement.scheduled_principal,
        "scheduled_interest": statement.scheduled_interest,
        "closing_balance": statement.closing_balance,
        "penalty_unpaid": statement.position.penalty_accrued,
        "days_past_due": statement.position.days_past_due,
        "repayments": statement.repayments,
        "scheduled": [
            {
                "seq": inst.seq,
                "due_date": inst.due_date,
                "principal_due": inst.principal_due,
                "interest_due": inst.interest_due,
                "principal_paid": principal,
                "interest_paid": interest,
                "penalty_paid": penalty,
            }
            for inst, principal, interest, penalty in statement.scheduled
        ],
    }


# --- viewset -----------------------------------------------------------------------------------


@extend_schema(tags=["finance: loans"])
class LoanViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = LoanSerializer
    filterset_class = LoanFilter
    throttle_classes = THROTTLES

    def get_queryset(self):
        return services.with_schedule(loan_list(self.request.user)).order_by("-disbursed_on", "-pk")

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "as_of": timezone.localdate()}

    def _respond(self, loan, code=status.HTTP_200_OK, **kwargs):
        loan = self.get_queryset().get(pk=loan.pk)
        _note_bank_reads(self.request, [loan.borrower])
        return Response(self.get_serializer(loan).data, status=code, **kwargs)

    @extend_schema(summary="贷款列表（银行只见本行贷款；含今日逾期情况）")
    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        _note_bank_reads(request, [loan.borrower for loan in page])
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(summary="贷款详情（含今日逾期情况）", responses={200: LoanSerializer, 404: ERROR})
    def retrieve(self, request, *args, **kwargs):
        return self._respond(self.get_object())

    @extend_schema(
        summary="报送放款（银行；支持 Idempotency-Key：重复请求返回首次登记的贷款，状态码 200）",
        request=DisbursementSerializer,
        parameters=[KEY_PARAMETER],
        responses={201: LoanSerializer, 200: LoanSerializer, 400: ERROR, 403: ERROR, 404: ERROR, 409: ERROR},
        examples=[
            OpenApiExample(
                "放款报送",
                value={
                    "application": 12,
                    "principal": "300000.00",
                    "disbursed_on": "2026-11-20",
                    "bank_reference": "JJ-2026-000123",
                    "first_due_date": None,
                },
                request_only=True,
            )
        ],
    )
    def create(self, request):
        bank = bank_of(request.user)
        key = header_key(request)
        payload = DisbursementSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        # any of the bank's applications it may see: the service answers 409 for one not awaiting
        # disbursement, and a replay must reach run_once after the first request disbursed it
        application = get_object_or_404(
            applications_for(request.user).filter(product__bank=bank), pk=data.pop("application")
        )
        try:
            loan = run_once(
                organization=bank,
                endpoint="loans",
                key=key,
                body_fingerprint=fingerprint(request.data),
                create=lambda: services.disburse(actor=request.user, application=application, **data),
            )
        except Replay as replay:
            earlier = get_object_or_404(self.get_queryset(), pk=replay.object_id)
            return self._respond(earlier, headers={"Idempotent-Replayed": "true"})
        return self._respond(loan, status.HTTP_201_CREATED)

    @extend_schema(
        methods=["GET"],
        summary="还款记录及其分配",
        responses={200: RepaymentSerializer(many=True), 404: ERROR},
    )
    @extend_schema(
        methods=["POST"],
        summary="报送还款（支持 Idempotency-Key：重复请求返回首次登记的还款，状态码 200）",
        request=RepaymentRequestSerializer,
        parameters=[KEY_PARAMETER],
        responses={
            201: RepaymentSerializer,
            200: RepaymentSerializer,
            400: ERROR,
            403: ERROR,
            404: ERROR,
            409: ERROR,
        },
        examples=[
            OpenApiExample(
                "按期还款",
                value={"amount": "8803.91", "paid_on": "2026-11-15", "bank_reference": "LS-2026-778899"},
                request_only=True,
            ),
            OpenApiExample(
                "提前还款（减少月供）",
                value={
                    "amount": "50000.00",
                    "paid_on": "2026-11-20",
                    "bank_reference": "LS-2026-778900",
                    "prepayment": "lower_installment",
                },
                request_only=True,
            ),
        ],
    )
    @action(detail=True, methods=["get", "post"])
    def repayments(self, request, pk=None):
        loan = self.get_object()
        if request.method == "GET":
            return Response(RepaymentSerializer(loan_repayments(loan).select_related("loan"), many=True).data)
        if not (
            loan.bank_id in bank_organizations(request.user)
            or can(request.user, Capability.MANAGE_LOANS, division=loan.division)
        ):
            raise PermissionDeniedError(_("您没有权限执行此操作。"))
        key = header_key(request)
        payload = RepaymentRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        body = {"loan": loan.pk, "body": request.data}  # the same key on another loan is another request
        try:
            repayment = run_once(
                organization=key_owner(request.user, loan.division),
                endpoint="repayments",
                key=key,
                body_fingerprint=fingerprint(body),
                create=lambda: services.record_repayment(
                    actor=request.user, loan=loan, **payload.validated_data
                ),
            )
            code, headers = status.HTTP_201_CREATED, {}
        except Replay as replay:
            repayment = get_object_or_404(Repayment.objects.filter(loan=loan), pk=replay.object_id)
            code, headers = status.HTTP_200_OK, {"Idempotent-Replayed": "true"}
        repayment = loan_repayments(loan).select_related("loan").get(pk=repayment.pk)
        return Response(RepaymentSerializer(repayment).data, status=code, headers=headers)

    @extend_schema(summary="还款计划", responses={200: LoanInstallmentSerializer(many=True), 404: ERROR})
    @action(detail=True, methods=["get"])
    def schedule(self, request, pk=None):
        loan = self.get_object()
        return Response(LoanInstallmentSerializer(loan.installments.all(), many=True).data)

    @extend_schema(
        summary="对账单（start 至 end，含两端）",
        parameters=[
            OpenApiParameter("start", str, OpenApiParameter.QUERY, required=True, description="YYYY-MM-DD"),
            OpenApiParameter("end", str, OpenApiParameter.QUERY, required=True, description="YYYY-MM-DD"),
        ],
        responses={200: LoanStatementSerializer, 400: ERROR, 404: ERROR},
    )
    @action(detail=True, methods=["get"])
    def statement(self, request, pk=None):
        loan = self.get_object()
        query = LoanStatementQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        result = services.statement(loan, query.validated_data["start"], query.validated_data["end"])
        _note_bank_reads(request, [loan.borrower])
        return Response(LoanStatementSerializer(_statement_data(result)).data)

    @extend_schema(
        summary="逾期分档汇总（笔数、剩余本金、逾期本金）",
        responses={200: DelinquencyBucketSerializer(many=True)},
    )
    @action(detail=False, methods=["get"])
    def delinquency(self, request):
        return Response(DelinquencyBucketSerializer(delinquency_summary(request.user), many=True).data)


def register(router):
    router.register("loans", LoanViewSet, basename="loan")
