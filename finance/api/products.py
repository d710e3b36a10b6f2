"""`/api/v1/finance/products/`: loan products. Cooperative staff read every bank's products; a
bank's officers (and its API clients) read, create and change only their own bank's (another
bank's product answers 404); city administrators create for any bank by naming it. Each product
carries its annualised rate range per payment frequency (`apr`)."""

from decimal import Decimal

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle

from directory.models import Organization, OrganizationKind
from resources.models import ResourceType, RightKind
from tmcs.errors import DomainError, PermissionDeniedError

from ..forms.products import ProductFilter
from ..models import (
    DayCount,
    GuaranteeRequirement,
    InsuranceKind,
    LoanKind,
    LoanProduct,
    PaymentFrequency,
    RepaymentMethod,
)
from ..selectors_products import products_for
from ..services import products as services
from ..services.common import acting_bank
from .throttling import BankRateThrottle

ERROR = OpenApiResponse(description="{code, detail, fields}")


class AprSerializer(serializers.Serializer):
    frequency = serializers.ChoiceField(choices=PaymentFrequency.choices)
    simple_min = serializers.DecimalField(
        max_digits=8, decimal_places=6, help_text="单利年化（= 名义年利率）"
    )
    simple_max = serializers.DecimalField(max_digits=8, decimal_places=6)
    compound_min = serializers.DecimalField(
        max_digits=8, decimal_places=6, help_text="复利年化 (1 + r/m)^m − 1，m 为每年还款次数"
    )
    compound_max = serializers.DecimalField(max_digits=8, decimal_places=6)


class ProductSerializer(serializers.ModelSerializer):
    bank_name = serializers.CharField(source="bank.name")
    eligible_right_kinds = serializers.ListField(child=serializers.ChoiceField(choices=RightKind.choices))
    eligible_resource_types = serializers.SlugRelatedField(many=True, slug_field="code", read_only=True)
    repayment_methods = serializers.ListField(child=serializers.ChoiceField(choices=RepaymentMethod.choices))
    payment_frequencies = serializers.ListField(
        child=serializers.ChoiceField(choices=PaymentFrequency.choices)
    )
    required_insurance_kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=InsuranceKind.choices)
    )
    apr = serializers.SerializerMethodField()

    class Meta:
        model = LoanProduct
        fields = [
            "id",
            "bank",
            "bank_name",
            "code",
            "name",
            "kind",
            "description",
            "guarantee_requirement",
            "eligible_right_kinds",
            "eligible_resource_types",
            "max_ltv",
            "haircut",
            "income_share_of_gep",
            "discount_rate",
            "max_valuation_years",
            "appraisal_valid_days",
            "min_amount",
            "max_amount",
            "rate_min",
            "rate_max",
            "penalty_markup",
            "term_min_months",
            "term_max_months",
            "repayment_methods",
            "payment_frequencies",
            "day_count",
            "min_credit_score",
            "requires_insurance",
            "required_insurance_kinds",
            "risk_scheme",
            "is_active",
            "created_at",
            "apr",
        ]

    @extend_schema_field(AprSerializer(many=True))
    def get_apr(self, product):
        return AprSerializer(services.apr_ranges(product), many=True).data


def _ratio(**kwargs):
    return serializers.DecimalField(max_digits=8, decimal_places=6, min_value=Decimal("0"), **kwargs)


class ProductWriteSerializer(serializers.Serializer):
    """What a bank (or a city administrator) sends; finance.services.products checks the ranges
    and the relations between fields again."""

    bank = serializers.IntegerField(
        required=False, help_text="仅市级管理员创建时填写；银行工作人员默认为本行，不能为他行创建"
    )
    code = serializers.CharField(max_length=30)
    name = serializers.CharField(max_length=100)
    kind = serializers.ChoiceField(choices=LoanKind.choices)
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    guarantee_requirement = serializers.ChoiceField(choices=GuaranteeRequirement.choices)
    eligible_right_kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=RightKind.choices), required=False
    )
    eligible_resource_types = serializers.SlugRelatedField(
        many=True, slug_field="code", queryset=ResourceType.objects.all(), required=False
    )
    max_ltv = _ratio(max_value=Decimal("1"), help_text="(0, 1]，如 0.6")
    haircut = _ratio(max_value=Decimal("1"), required=False, help_text="[0, 1)")
    income_share_of_gep = _ratio(max_value=Decimal("1"), required=False)
    discount_rate = _ratio(max_value=Decimal("1"), required=False)
    max_valuation_years = serializers.IntegerField(
        min_value=1, max_value=services.MAX_VALUATION_YEARS, required=False
    )
    appraisal_valid_days = serializers.IntegerField(
        min_value=1, max_value=services.MAX_APPRAISAL_VALID_DAYS, required=False
    )
    min_amount = serializers.DecimalField(
        max_digits=16, decimal_places=2, min_value=Decimal("0.01"), required=False
    )
    max_amount = serializers.DecimalField(max_digits=16, decimal_places=2, min_value=Decimal("0.01"))
    rate_min = _ratio(max_value=services.RATE_CEILING, help_text="年利率，小数，如 0.036")
    rate_max = _ratio(max_value=services.RATE_CEILING, help_text="年利率，小数，须低于 0.24")
    penalty_markup = _ratio(max_value=Decimal("1"), required=False, help_text="0.3–0.5（银发〔2003〕251号）")
    term_min_months = serializers.IntegerField(
        min_value=1, max_value=services.MAX_TERM_MONTHS, required=False
    )
    term_max_months = serializers.IntegerField(
        min_value=1, max_value=services.MAX_TERM_MONTHS, required=False
    )
    repayment_methods = serializers.ListField(
        child=serializers.ChoiceField(choices=RepaymentMethod.choices), allow_empty=False
    )
    payment_frequencies = serializers.ListField(
        child=serializers.ChoiceField(choices=PaymentFrequency.choices), allow_empty=False
    )
    day_count = serializers.ChoiceField(choices=DayCount.choices, required=False)
    min_credit_score = serializers.IntegerField(
        min_value=300, max_value=1000, required=False, allow_null=True
    )
    requires_insurance = serializers.BooleanField(required=False)
    required_insurance_kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=InsuranceKind.choices),
        required=False,
        help_text='申请须持有的有效保单险种（不可重复），如 ["forest"]',
    )
    risk_scheme = serializers.IntegerField(required=False, allow_null=True)

    def validate_required_insurance_kinds(self, value):
        if len(set(value)) != len(value):
            raise serializers.ValidationError(_("险种不能重复。"))
        return value


EXAMPLE = {
    "code": "GEP-2026",
    "name": "GEP生态贷",
    "kind": "gep_loan",
    "guarantee_requirement": "pledge",
    "eligible_right_kinds": ["contract", "management"],
    "eligible_resource_types": ["forest"],
    "max_ltv": "0.6",
    "haircut": "0.2",
    "min_amount": "10000.00",
    "max_amount": "1000000.00",
    "rate_min": "0.032",
    "rate_max": "0.048",
    "term_min_months": 6,
    "term_max_months": 60,
    "repayment_methods": ["equal_installment", "equal_principal"],
    "payment_frequencies": ["monthly", "quarterly"],
    "day_count": "act_360",
}


def _bank_for_create(user, bank_id):
    own = acting_bank(user)
    if own is not None:
        if bank_id is not None and bank_id != own.pk:
            raise PermissionDeniedError(_("银行工作人员只能为本行创建贷款产品。"))
        return own
    if not user.can_operate_platform:
        raise PermissionDeniedError(_("只有合作银行的工作人员或市级管理员可以创建贷款产品。"))
    if bank_id is None:
        message = _("请指定贷款银行。")
        raise DomainError(message, code="invalid", fields={"bank": [message]})
    bank = Organization.objects.filter(pk=bank_id, kind=OrganizationKind.BANK).first()
    if bank is None:
        message = _("请选择启用中的合作银行。")
        raise DomainError(message, code="invalid", fields={"bank": [message]})
    return bank


@extend_schema(tags=["finance: products"])
class ProductViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = ProductSerializer
    filterset_class = ProductFilter
    throttle_classes = [BankRateThrottle, UserRateThrottle]

    def get_queryset(self):
        return (
            products_for(self.request.user)
            .prefetch_related("eligible_resource_types")
            .order_by("bank__name", "code")
        )

    def _respond(self, product, code=status.HTTP_200_OK):
        return Response(self.get_serializer(self.get_queryset().get(pk=product.pk)).data, status=code)

    @extend_schema(
        summary="创建贷款产品（银行工作人员为本行；市级管理员须指定 bank）",
        request=ProductWriteSerializer,
        responses={201: ProductSerializer, 400: ERROR, 403: ERROR, 409: ERROR},
        examples=[OpenApiExample("GEP生态贷", value=EXAMPLE, request_only=True)],
    )
    def create(self, request):
        payload = ProductWriteSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        bank = _bank_for_create(request.user, data.pop("bank", None))
        product = services.create_product(actor=request.user, bank=bank, **data)
        return self._respond(product, status.HTTP_201_CREATED)

    def _update(self, request, partial):
        product = self.get_object()
        payload = ProductWriteSerializer(data=request.data, partial=partial)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        if "bank" in data:
            message = _("产品所属银行不能修改。")
            raise DomainError(message, code="invalid", fields={"bank": [message]})
        return self._respond(services.update_product(actor=request.user, product=product, **data))

    @extend_schema(
        summary="修改贷款产品（全部字段）",
        request=ProductWriteSerializer,
        responses={200: ProductSerializer, 400: ERROR, 403: ERROR, 404: ERROR, 409: ERROR},
    )
    def update(self, request, pk=None):
        return self._update(request, partial=False)

    @extend_schema(
        summary="修改贷款产品（部分字段）",
        request=ProductWriteSerializer,
        responses={200: ProductSerializer, 400: ERROR, 403: ERROR, 404: ERROR, 409: ERROR},
    )
    def partial_update(self, request, pk=None):
        return self._update(request, partial=True)

    @extend_schema(summary="上架", request=None, responses={200: ProductSerializer, 403: ERROR, 404: ERROR})
    @action(detail=True, methods=["post"])
    def activate(self, request, pk=None):
        return self._respond(
            services.set_product_active(actor=request.user, product=self.get_object(), active=True)
        )

    @extend_schema(summary="下架", request=None, responses={200: ProductSerializer, 403: ERROR, 404: ERROR})
    @action(detail=True, methods=["post"])
    def deactivate(self, request, pk=None):
        return self._respond(
            services.set_product_active(actor=request.user, product=self.get_object(), active=False)
        )


def register(router):
    router.register("products", ProductViewSet, basename="product")
