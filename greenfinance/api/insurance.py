"""`/api/v1/greenfinance/policies/` and `/claims/`: green insurance.

The cooperative's green-finance desk records policies (`POST /policies/`, `POST
/policies/{id}/cancel/`) and runs claims (`POST /claims/`, then `assess`, `approve`, `reject`,
`withdraw`, `payout`). Auditors read their divisions. A bank reads, and only reads, the policies
that secure its own loan applications or loans and their claims (404 for any other, 403 on a
write). A payout's reference is unique per claim, so a retried payout answers 409 instead of
paying twice. Every bank read of an insured person's name is logged (PIPL)."""

from decimal import Decimal

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.settings import api_settings

from directory.middleware import note_personal_data
from directory.models import AccessChannel, AdministrativeDivision, ApiToken, Party
from directory.permissions import Capability, can
from directory.selectors import within_reach
from directory.services import log_person_reads
from finance.api.throttling import BankRateThrottle
from finance.models import InsuranceKind, Loan, LoanApplication
from projects.models import KeyProject
from resources.models import Asset
from tmcs.audit import client_ip
from tmcs.errors import DomainError, PermissionDeniedError

from .. import selectors_insurance as selectors
from ..forms_insurance import ClaimFilter, PolicyFilter
from ..models import ClaimPayout, InsuranceClaim, InsurancePolicy
from ..services import insurance as services

ERROR = OpenApiResponse(description="{code, detail, fields}")
THROTTLES = [*api_settings.DEFAULT_THROTTLE_CLASSES, BankRateThrottle]
MONEY = {"max_digits": 16, "decimal_places": 2}


def _require_desk(user):
    if not can(user, Capability.MANAGE_GREEN_FINANCE):
        raise PermissionDeniedError(_("您没有权限执行此操作。"))


def _not_found(field, label):
    message = _("%(what)s不存在或不在您的管辖范围内。") % {"what": label}
    return DomainError(message, code="invalid", fields={field: [message]})


def _resolve(queryset, pk, field, label):
    """The row `pk` of `queryset` (already restricted to the caller), or a 400 on the field."""
    if pk is None:
        return None
    found = queryset.filter(pk=pk).first()
    if found is None:
        raise _not_found(field, label)
    return found


def _note_bank_reads(request, parties):
    """Insured persons' names in a bank's response: token calls go to the API log with the persons
    and fields; a bank officer in the browser is logged as the web pages do (PIPL)."""
    if not selectors.is_bank_reader(request.user):
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


class _BankReadLogging:
    """List and retrieve note the insured persons they return (see _note_bank_reads)."""

    def parties_of(self, obj):
        raise NotImplementedError

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        rows = page if page is not None else list(queryset)
        _note_bank_reads(self.request, [party for obj in rows for party in self.parties_of(obj)])
        return page

    def retrieve(self, request, *args, **kwargs):
        instance = self.get_object()
        _note_bank_reads(request, self.parties_of(instance))
        return Response(self.get_serializer(instance).data)


# --- policies ---------------------------------------------------------------------------------


class PolicySerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display")
    status_label = serializers.CharField(source="get_status_display")
    insurer_name = serializers.CharField(source="insurer.name")
    insured_name = serializers.StringRelatedField(source="insured")
    insured_kind = serializers.CharField(source="insured.kind")
    beneficiary_name = serializers.StringRelatedField(source="beneficiary")
    division_code = serializers.CharField(source="division.code")
    asset_codes = serializers.SlugRelatedField(source="assets", many=True, slug_field="code", read_only=True)
    application_number = serializers.CharField(source="application.number", default=None)
    loan_number = serializers.CharField(source="loan.number", default=None)
    project_number = serializers.CharField(source="project.number", default=None)
    approved_total = serializers.DecimalField(
        read_only=True, help_text="已核赔（已核赔、已赔付理赔的核定赔款合计）", **MONEY
    )
    remaining = serializers.DecimalField(read_only=True, help_text="剩余保险金额", **MONEY)

    class Meta:
        model = InsurancePolicy
        fields = [
            "id",
            "number",
            "kind",
            "kind_label",
            "insurer",
            "insurer_name",
            "insured",
            "insured_name",
            "insured_kind",
            "beneficiary",
            "beneficiary_name",
            "division_code",
            "assets",
            "asset_codes",
            "application",
            "application_number",
            "loan",
            "loan_number",
            "project",
            "project_number",
            "sum_insured",
            "premium",
            "subsidy_rate",
            "subsidy_amount",
            "approved_total",
            "remaining",
            "start_date",
            "end_date",
            "terms",
            "status",
            "status_label",
            "ended_at",
            "end_reason",
            "created_at",
        ]


class PolicyCreateSerializer(serializers.Serializer):
    number = serializers.CharField(max_length=40, help_text="保险机构出具的保单号，平台内唯一")
    kind = serializers.ChoiceField(choices=InsuranceKind.choices)
    insurer = serializers.IntegerField(min_value=1, help_text="保险机构（机构类型为保险机构）的 id")
    insured = serializers.IntegerField(min_value=1, help_text="被保险人主体 id")
    beneficiary = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    division = serializers.SlugRelatedField(slug_field="code", queryset=AdministrativeDivision.objects.all())
    sum_insured = serializers.DecimalField(min_value=Decimal("0.01"), **MONEY)
    premium = serializers.DecimalField(min_value=Decimal("0"), **MONEY)
    subsidy_rate = serializers.DecimalField(
        max_digits=7,
        decimal_places=6,
        min_value=Decimal("0"),
        max_value=Decimal("1"),
        required=False,
        default=Decimal("0"),
        help_text="财政补贴比例，小数，如 0.6",
    )
    start_date = serializers.DateField()
    end_date = serializers.DateField(help_text="保险止期（不含）")
    terms = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")
    assets = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, default=list, max_length=500
    )
    application = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    loan = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    project = serializers.IntegerField(min_value=1, required=False, allow_null=True)

    def validate_assets(self, value):
        if len(set(value)) != len(value):
            raise serializers.ValidationError(_("资源资产重复。"))
        return value

    def validate(self, data):
        if data["end_date"] <= data["start_date"]:
            raise serializers.ValidationError({"end_date": [_("保险止期须晚于保险起期。")]})
        return data


class PolicyCancelSerializer(serializers.Serializer):
    on = serializers.DateField(help_text="退保生效日期：自该日零时起不再承保")
    reason = serializers.CharField(max_length=300)


POLICY_EXAMPLE = {
    "number": "PICC-LS-2026-000123",
    "kind": "forest",
    "insurer": 9,
    "insured": 12,
    "beneficiary": 4,
    "division": "331102199201",
    "sum_insured": "300000.00",
    "premium": "1200.00",
    "subsidy_rate": "0.6",
    "start_date": "2026-03-01",
    "end_date": "2027-03-01",
    "assets": [31],
    "application": 7,
}


@extend_schema(tags=["greenfinance: insurance"])
class PolicyViewSet(
    _BankReadLogging, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    serializer_class = PolicySerializer
    filterset_class = PolicyFilter
    throttle_classes = THROTTLES

    def get_queryset(self):
        return (
            selectors.policies_for(self.request.user)
            .prefetch_related("assets")
            .order_by("-start_date", "-pk")
        )

    def parties_of(self, policy):
        return [policy.insured, policy.beneficiary]

    def _respond(self, policy, code=status.HTTP_200_OK):
        return Response(self.get_serializer(self.get_queryset().get(pk=policy.pk)).data, status=code)

    @extend_schema(
        summary="登记绿色保险保单",
        request=PolicyCreateSerializer,
        responses={201: PolicySerializer, 400: ERROR, 403: ERROR, 409: ERROR},
        examples=[OpenApiExample("森林火灾及病虫害保险", value=POLICY_EXAMPLE, request_only=True)],
    )
    def create(self, request):
        _require_desk(request.user)
        payload = PolicyCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        user = request.user
        desk = within_reach(user, "division__code", Capability.MANAGE_GREEN_FINANCE)
        data["insurer"] = _resolve(selectors.insurers(), data["insurer"], "insurer", _("保险机构"))
        data["insured"] = _resolve(
            selectors.insured_candidates(user), data["insured"], "insured", _("被保险人")
        )
        data["beneficiary"] = _resolve(
            selectors.beneficiary_candidates(user), data.get("beneficiary"), "beneficiary", _("第一受益人")
        )
        assets = list(Asset.objects.filter(desk, pk__in=data["assets"]).defer("geometry"))
        if len(assets) != len(data["assets"]):
            raise _not_found("assets", _("资源资产"))
        data["assets"] = assets
        data["application"] = _resolve(
            LoanApplication.objects.filter(desk), data.get("application"), "application", _("贷款申请")
        )
        data["loan"] = _resolve(Loan.objects.filter(desk), data.get("loan"), "loan", _("贷款"))
        data["project"] = _resolve(
            KeyProject.objects.filter(desk), data.get("project"), "project", _("重点项目")
        )
        policy = services.create_policy(actor=user, **data)
        return self._respond(policy, status.HTTP_201_CREATED)

    @extend_schema(
        summary="退保（自生效日零时起不再承保；此前出险的理赔照常办理）",
        request=PolicyCancelSerializer,
        responses={200: PolicySerializer, 400: ERROR, 403: ERROR, 404: ERROR, 409: ERROR},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        policy = self.get_object()
        payload = PolicyCancelSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.cancel_policy(actor=request.user, policy=policy, **payload.validated_data)
        return self._respond(policy)


# --- claims -----------------------------------------------------------------------------------


class ClaimPayoutSerializer(serializers.ModelSerializer):
    payee_name = serializers.StringRelatedField(source="payee")

    class Meta:
        model = ClaimPayout
        fields = ["paid_on", "amount", "payee", "payee_name", "reference", "recorded_at"]


class ClaimSerializer(serializers.ModelSerializer):
    policy_number = serializers.CharField(source="policy.number")
    kind = serializers.CharField(source="policy.kind")
    asset_code = serializers.CharField(source="asset.code", default=None)
    status_label = serializers.CharField(source="get_status_display")
    payouts = ClaimPayoutSerializer(many=True, read_only=True)

    class Meta:
        model = InsuranceClaim
        fields = [
            "id",
            "number",
            "policy",
            "policy_number",
            "kind",
            "asset",
            "asset_code",
            "incident_date",
            "cause",
            "claimed_amount",
            "approved_amount",
            "paid_amount",
            "status",
            "status_label",
            "decision_note",
            "reported_at",
            "decided_at",
            "payouts",
        ]


class ClaimCreateSerializer(serializers.Serializer):
    policy = serializers.IntegerField(min_value=1)
    incident_date = serializers.DateField()
    cause = serializers.CharField(max_length=300)
    claimed_amount = serializers.DecimalField(min_value=Decimal("0.01"), **MONEY)
    asset = serializers.IntegerField(
        min_value=1, required=False, allow_null=True, help_text="出险标的（保单承保的资产）"
    )


class ClaimApproveSerializer(serializers.Serializer):
    approved_amount = serializers.DecimalField(min_value=Decimal("0.01"), **MONEY)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class ClaimNoteSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=500)


class ClaimPayoutCreateSerializer(serializers.Serializer):
    amount = serializers.DecimalField(min_value=Decimal("0.01"), **MONEY)
    paid_on = serializers.DateField()
    payee = serializers.IntegerField(min_value=1, help_text="领款人主体 id：被保险人或第一受益人")
    reference = serializers.CharField(max_length=60, help_text="赔付凭证号，同一理赔内唯一")


CLAIM_RESPONSES = {200: ClaimSerializer, 400: ERROR, 403: ERROR, 404: ERROR, 409: ERROR}


@extend_schema(tags=["greenfinance: insurance"])
class ClaimViewSet(
    _BankReadLogging, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    serializer_class = ClaimSerializer
    filterset_class = ClaimFilter
    throttle_classes = THROTTLES

    def get_queryset(self):
        return selectors.with_payouts(selectors.claims_for(self.request.user)).order_by("-reported_at", "-pk")

    def parties_of(self, claim):
        return [claim.policy.insured]

    def _respond(self, claim, code=status.HTTP_200_OK):
        return Response(self.get_serializer(self.get_queryset().get(pk=claim.pk)).data, status=code)

    @extend_schema(
        summary="报案",
        request=ClaimCreateSerializer,
        responses={201: ClaimSerializer, 400: ERROR, 403: ERROR, 409: ERROR},
    )
    def create(self, request):
        _require_desk(request.user)
        payload = ClaimCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        policy = _resolve(selectors.policies_for(request.user), data.pop("policy"), "policy", _("保单"))
        asset_id = data.pop("asset", None)
        asset = _resolve(policy.assets.defer("geometry"), asset_id, "asset", _("出险标的"))
        claim = services.report_claim(actor=request.user, policy=policy, asset=asset, **data)
        return self._respond(claim, status.HTTP_201_CREATED)

    @extend_schema(summary="开始查勘定损", request=None, responses=CLAIM_RESPONSES)
    @action(detail=True, methods=["post"])
    def assess(self, request, pk=None):
        claim = self.get_object()
        return self._respond(services.start_assessment(actor=request.user, claim=claim))

    @extend_schema(
        summary="核赔（不超过报损金额及保单剩余保险金额）",
        request=ClaimApproveSerializer,
        responses=CLAIM_RESPONSES,
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        claim = self.get_object()
        payload = ClaimApproveSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        return self._respond(
            services.approve_claim(actor=request.user, claim=claim, **payload.validated_data)
        )

    @extend_schema(summary="拒赔", request=ClaimNoteSerializer, responses=CLAIM_RESPONSES)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        claim = self.get_object()
        payload = ClaimNoteSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        return self._respond(services.reject_claim(actor=request.user, claim=claim, **payload.validated_data))

    @extend_schema(summary="撤案", request=ClaimNoteSerializer, responses=CLAIM_RESPONSES)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        claim = self.get_object()
        payload = ClaimNoteSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        return self._respond(
            services.withdraw_claim(actor=request.user, claim=claim, **payload.validated_data)
        )

    @extend_schema(
        summary="登记赔付（累计不超过核定赔款；足额后理赔变为已赔付；凭证号重复返回 409）",
        request=ClaimPayoutCreateSerializer,
        responses={201: ClaimSerializer, 400: ERROR, 403: ERROR, 404: ERROR, 409: ERROR},
    )
    @action(detail=True, methods=["post"])
    def payout(self, request, pk=None):
        claim = self.get_object()
        payload = ClaimPayoutCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        payee = Party.objects.filter(pk=data.pop("payee")).first()
        if payee is None:
            raise _not_found("payee", _("领款人"))
        services.record_payout(actor=request.user, claim=claim, payee=payee, **data)
        return self._respond(claim, status.HTTP_201_CREATED)


def register(router):
    router.register("policies", PolicyViewSet, basename="insurance-policy")
    router.register("claims", ClaimViewSet, basename="insurance-claim")
