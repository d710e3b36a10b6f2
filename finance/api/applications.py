"""`/api/v1/finance/applications/` and `/api/v1/finance/appraisals/`.

Cooperative staff prepare, edit, submit, check and withdraw applications and appraise collateral;
a bank reads the applications of its own products once the cooperative approved them (404 for
anything else), decides them (`decide`), and reads and cites their appraisals. Every bank read of
a borrower (a person) is noted in the API log and the personal-data access log."""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
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

from ..forms.applications import ApplicationFilter, AppraisalFilter
from ..models import (
    ApplicationCollateral,
    CollateralAppraisal,
    LoanApplication,
    PaymentFrequency,
    RepaymentMethod,
)
from ..selectors_applications import (
    active_products,
    applicants_for,
    applications_for,
    appraisals_for,
    bank_ids,
    pledgeable_rights_for,
    with_collateral,
)
from ..services import applications as services
from ..services.appraisal import appraise
from .throttling import BankRateThrottle

ERROR = OpenApiResponse(description="{code, detail, fields}")
THROTTLES = [*api_settings.DEFAULT_THROTTLE_CLASSES, BankRateThrottle]


def _note_bank_reads(request, parties):
    """A bank's response carrying borrowers' names: token calls are in the API log (with the
    persons and fields); a bank officer in the browser is logged as the web pages do (PIPL)."""
    if not bank_ids(request.user):
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


def _require_staff(user):
    if not can(user, Capability.MANAGE_LOANS):
        raise PermissionDeniedError(_("您没有权限执行此操作。"))


# --- serializers -------------------------------------------------------------------------------


class ApplicationCollateralSerializer(serializers.ModelSerializer):
    asset = serializers.IntegerField(source="right.asset_id")
    asset_code = serializers.CharField(source="right.asset.code")
    right_kind = serializers.CharField(source="right.kind")
    share = serializers.CharField(source="right.share_display")
    certificate_number = serializers.CharField(source="right.certificate_number", allow_null=True)
    appraisal_number = serializers.CharField(source="appraisal.number", default=None)
    max_loan = serializers.DecimalField(
        source="appraisal.max_loan", max_digits=16, decimal_places=2, default=None
    )
    valid_until = serializers.DateField(source="appraisal.valid_until", default=None)

    class Meta:
        model = ApplicationCollateral
        fields = [
            "right",
            "asset",
            "asset_code",
            "right_kind",
            "share",
            "certificate_number",
            "appraisal",
            "appraisal_number",
            "max_loan",
            "valid_until",
        ]


class LoanApplicationSerializer(serializers.ModelSerializer):
    applicant_name = serializers.StringRelatedField(source="applicant")
    applicant_kind = serializers.CharField(source="applicant.kind")
    division_code = serializers.CharField(source="division.code")
    product_code = serializers.CharField(source="product.code")
    product_name = serializers.CharField(source="product.name")
    bank = serializers.IntegerField(source="product.bank_id")
    bank_name = serializers.CharField(source="product.bank.name")
    credit_score_value = serializers.DecimalField(
        source="credit_score.score", max_digits=7, decimal_places=2, default=None
    )
    prepared_by = serializers.StringRelatedField()
    checked_by = serializers.StringRelatedField()
    bank_decided_by = serializers.StringRelatedField()
    collateral = ApplicationCollateralSerializer(many=True)

    class Meta:
        model = LoanApplication
        fields = [
            "id",
            "number",
            "status",
            "applicant",
            "applicant_name",
            "applicant_kind",
            "division_code",
            "product",
            "product_code",
            "product_name",
            "bank",
            "bank_name",
            "amount",
            "term_months",
            "repayment_method",
            "payment_frequency",
            "annual_rate",
            "purpose",
            "consent_document",
            "credit_score",
            "credit_score_value",
            "prepared_by",
            "prepared_at",
            "checked_by",
            "checked_at",
            "check_note",
            "bank_decided_by",
            "bank_decided_at",
            "bank_note",
            "approved_amount",
            "created_at",
            "collateral",
        ]


class _StaffChoices(serializers.Serializer):
    """Choices limited to what the requesting staff member may use (others read as "not found")."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is None:  # schema generation
            return
        user = request.user
        querysets = {
            "applicant": lambda: applicants_for(user),
            "product": active_products,
            "rights": lambda: pledgeable_rights_for(user),
            "right": lambda: pledgeable_rights_for(user),
            "application": lambda: applications_for(user),
        }
        for name, field in self.fields.items():
            if name in querysets:
                target = getattr(field, "child_relation", field)
                target.queryset = querysets[name]()


class ApplicationCreateSerializer(_StaffChoices):
    applicant = serializers.PrimaryKeyRelatedField(queryset=LoanApplication.objects.none())
    product = serializers.PrimaryKeyRelatedField(queryset=LoanApplication.objects.none())
    amount = serializers.DecimalField(max_digits=16, decimal_places=2)
    term_months = serializers.IntegerField(min_value=1, max_value=600)
    repayment_method = serializers.ChoiceField(choices=RepaymentMethod.choices)
    payment_frequency = serializers.ChoiceField(choices=PaymentFrequency.choices)
    annual_rate = serializers.DecimalField(
        max_digits=8, decimal_places=6, help_text="年利率（小数，0.036 = 3.6%）"
    )
    purpose = serializers.CharField(max_length=300)
    rights = serializers.PrimaryKeyRelatedField(
        queryset=LoanApplication.objects.none(), many=True, required=False
    )
    consent_document = serializers.CharField(max_length=100, required=False, allow_blank=True)


class ApplicationUpdateSerializer(ApplicationCreateSerializer):
    applicant = None  # a different applicant is a different application

    def __init__(self, *args, **kwargs):
        kwargs["partial"] = True
        super().__init__(*args, **kwargs)


class ApplicationCheckSerializer(serializers.Serializer):
    approve = serializers.BooleanField()
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class BankDecisionSerializer(serializers.Serializer):
    approve = serializers.BooleanField()
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    approved_amount = serializers.DecimalField(
        max_digits=16, decimal_places=2, required=False, allow_null=True, default=None
    )


class ApplicationWithdrawSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


class AppraisalSerializer(serializers.ModelSerializer):
    asset_code = serializers.CharField(source="asset.code")
    product_code = serializers.CharField(source="product.code")
    application_number = serializers.CharField(source="application.number", default=None)
    appraiser_org_name = serializers.CharField(source="appraiser_org.name")

    class Meta:
        model = CollateralAppraisal
        fields = [
            "id",
            "number",
            "right",
            "asset",
            "asset_code",
            "product",
            "product_code",
            "application",
            "application_number",
            "valuation_run",
            "gep_annual_value",
            "income_value",
            "market_value",
            "appraised_value",
            "haircut",
            "collateral_value",
            "ltv",
            "max_loan",
            "method",
            "appraiser_org",
            "appraiser_org_name",
            "appraiser_licence_no",
            "appraised_on",
            "valid_until",
            "calculation",
            "created_at",
        ]


class AppraisalCreateSerializer(_StaffChoices):
    right = serializers.PrimaryKeyRelatedField(queryset=LoanApplication.objects.none())
    product = serializers.PrimaryKeyRelatedField(queryset=LoanApplication.objects.none())
    application = serializers.PrimaryKeyRelatedField(
        queryset=LoanApplication.objects.none(), required=False, allow_null=True, default=None
    )
    appraised_on = serializers.DateField(required=False, allow_null=True, default=None)
    appraiser_licence_no = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")


# --- viewsets ----------------------------------------------------------------------------------


class LoanApplicationViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = LoanApplicationSerializer
    filterset_class = ApplicationFilter
    throttle_classes = THROTTLES

    def get_queryset(self):
        return with_collateral(applications_for(self.request.user)).order_by("-pk")

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        _note_bank_reads(self.request, [a.applicant for a in (page if page is not None else queryset)])
        return page

    def retrieve(self, request, *args, **kwargs):
        application = self.get_object()
        _note_bank_reads(request, [application.applicant])
        return Response(self.get_serializer(application).data)

    def _respond(self, application, code=status.HTTP_200_OK):
        fresh = self.get_queryset().get(pk=application.pk)
        _note_bank_reads(self.request, [fresh.applicant])
        return Response(self.get_serializer(fresh).data, status=code)

    @extend_schema(
        summary="新建贷款申请草稿（合作社经办人）",
        request=ApplicationCreateSerializer,
        responses={201: LoanApplicationSerializer, 400: ERROR, 403: ERROR},
        examples=[
            OpenApiExample(
                "GEP 贷",
                value={
                    "applicant": 12,
                    "product": 3,
                    "amount": "300000.00",
                    "term_months": 36,
                    "repayment_method": "equal_installment",
                    "payment_frequency": "monthly",
                    "annual_rate": "0.036000",
                    "purpose": "林下经济种植",
                    "rights": [45],
                    "consent_document": "SQ-AUTH-2026-001",
                },
                request_only=True,
            )
        ],
    )
    def create(self, request):
        _require_staff(request.user)
        payload = ApplicationCreateSerializer(data=request.data, context={"request": request})
        payload.is_valid(raise_exception=True)
        application = services.create_application(actor=request.user, **payload.validated_data)
        return self._respond(application, status.HTTP_201_CREATED)

    @extend_schema(
        summary="修改草稿或已退回的申请（经办人本人）",
        request=ApplicationUpdateSerializer,
        responses={200: LoanApplicationSerializer, 400: ERROR, 403: ERROR, 404: ERROR, 409: ERROR},
    )
    def partial_update(self, request, pk=None):
        application = self.get_object()
        _require_staff(request.user)
        payload = ApplicationUpdateSerializer(data=request.data, context={"request": request})
        payload.is_valid(raise_exception=True)
        return self._respond(
            services.update_application(actor=request.user, application=application, **payload.validated_data)
        )

    @extend_schema(
        summary="提交复核（经办人）",
        request=None,
        responses={200: LoanApplicationSerializer, 403: ERROR, 404: ERROR, 409: ERROR},
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        return self._respond(services.submit_application(actor=request.user, application=self.get_object()))

    @extend_schema(
        summary="复核（另一位工作人员）：通过后提交银行，或退回",
        request=ApplicationCheckSerializer,
        responses={200: LoanApplicationSerializer, 400: ERROR, 403: ERROR, 404: ERROR, 409: ERROR},
    )
    @action(detail=True, methods=["post"])
    def check(self, request, pk=None):
        application = self.get_object()
        payload = ApplicationCheckSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        return self._respond(
            services.check_application(actor=request.user, application=application, **payload.validated_data)
        )

    @extend_schema(
        summary="银行审批：批准（可低于申请金额）或拒绝",
        request=BankDecisionSerializer,
        responses={200: LoanApplicationSerializer, 400: ERROR, 403: ERROR, 404: ERROR, 409: ERROR},
        examples=[
            OpenApiExample(
                "批准", value={"approve": True, "approved_amount": "250000.00", "note": ""}, request_only=True
            ),
            OpenApiExample("拒绝", value={"approve": False, "note": "经营现金流不足"}, request_only=True),
        ],
    )
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        application = self.get_object()
        payload = BankDecisionSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        return self._respond(
            services.bank_decide(actor=request.user, application=application, **payload.validated_data)
        )

    @extend_schema(
        summary="撤回申请（合作社工作人员）",
        request=ApplicationWithdrawSerializer,
        responses={200: LoanApplicationSerializer, 400: ERROR, 403: ERROR, 404: ERROR, 409: ERROR},
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        application = self.get_object()
        payload = ApplicationWithdrawSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        return self._respond(
            services.withdraw_application(
                actor=request.user, application=application, **payload.validated_data
            )
        )


class CollateralAppraisalViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = AppraisalSerializer
    filterset_class = AppraisalFilter
    throttle_classes = THROTTLES

    def get_queryset(self):
        return appraisals_for(self.request.user).order_by("-pk")

    @extend_schema(
        summary="评估抵质押物（合作社工作人员）：收益现值法与市场比较法取孰低",
        request=AppraisalCreateSerializer,
        responses={201: AppraisalSerializer, 400: ERROR, 403: ERROR, 409: ERROR},
    )
    def create(self, request):
        _require_staff(request.user)
        payload = AppraisalCreateSerializer(data=request.data, context={"request": request})
        payload.is_valid(raise_exception=True)
        appraisal = appraise(actor=request.user, **payload.validated_data)
        fresh = get_object_or_404(self.get_queryset(), pk=appraisal.pk)
        return Response(self.get_serializer(fresh).data, status=status.HTTP_201_CREATED)


def register(router):
    router.register("applications", LoanApplicationViewSet, basename="application")
    router.register("appraisals", CollateralAppraisalViewSet, basename="appraisal")
