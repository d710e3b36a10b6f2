"""`collection-contracts`: 流转收储 contracts within the caller's reach (staff: their divisions,
village clerks: their village, read-only; everyone else an empty list). Staff create drafts and
sign them; the rules are those of transactions.services.collection, as on the web pages."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response

from directory.models import AdministrativeDivision, Party
from directory.permissions import Capability, can
from resources.models import RightKind
from resources.selectors import assets_for
from tmcs.errors import PermissionDeniedError
from valuation.api.idempotency import create_once, idempotent_request

from ..forms.collection import CollectionContractFilter
from ..models import (
    CollectionBeneficiary,
    CollectionContract,
    CollectionItem,
    PaymentFrequency,
    RevenueModel,
    ScheduledPayment,
)
from ..selectors_collection import collection_contracts_for, grantor_choices, with_details
from ..services import collection as services

ERROR = OpenApiResponse(description="{code, detail, fields}")


class CollectionItemSerializer(serializers.ModelSerializer):
    asset_code = serializers.CharField(source="asset.code")
    asset_name = serializers.CharField(source="asset.name")
    area_m2 = serializers.DecimalField(source="asset.area_m2", max_digits=16, decimal_places=2)

    class Meta:
        model = CollectionItem
        fields = ["asset", "asset_code", "asset_name", "area_m2", "weight", "granted_right", "is_open"]


class BeneficiarySerializer(serializers.ModelSerializer):
    party_name = serializers.CharField(source="party.__str__")
    share = serializers.CharField(source="share_display")

    class Meta:
        model = CollectionBeneficiary
        fields = ["id", "party", "party_name", "share_numerator", "share_denominator", "share"]


class ScheduleSerializer(serializers.ModelSerializer):
    class Meta:
        model = ScheduledPayment
        fields = ["id", "beneficiary", "kind", "due_date", "period_start", "period_end", "amount", "status"]


class ContractSerializer(serializers.ModelSerializer):
    division = serializers.SlugRelatedField(slug_field="code", read_only=True)
    cooperative_name = serializers.CharField(source="cooperative.name")
    grantor_name = serializers.CharField(source="grantor.__str__")

    class Meta:
        model = CollectionContract
        fields = [
            "id",
            "number",
            "status",
            "division",
            "cooperative",
            "cooperative_name",
            "grantor",
            "grantor_name",
            "source_right_kind",
            "granted_right_kind",
            "start_date",
            "end_date",
            "revenue_model",
            "annual_amount",
            "dividend_rate",
            "payment_frequency",
            "first_payment_date",
            "signed_at",
            "ended_at",
            "end_reason",
            "renewal_of",
            "created_at",
        ]


class ContractDetailSerializer(ContractSerializer):
    items = CollectionItemSerializer(many=True, read_only=True)
    beneficiaries = BeneficiarySerializer(many=True, read_only=True)
    schedule = ScheduleSerializer(many=True, read_only=True)

    class Meta(ContractSerializer.Meta):
        fields = [*ContractSerializer.Meta.fields, "obligations", "items", "beneficiaries", "schedule"]


class ContractCreateSerializer(serializers.Serializer):
    division = serializers.SlugRelatedField(
        slug_field="code", queryset=AdministrativeDivision.objects.defer("boundary")
    )
    grantor = serializers.PrimaryKeyRelatedField(queryset=Party.objects.none(), help_text="出让方的 party id")
    source_right_kind = serializers.ChoiceField(choices=RightKind.choices, default=RightKind.CONTRACT)
    granted_right_kind = serializers.ChoiceField(
        choices=CollectionContract._meta.get_field("granted_right_kind").choices, default=RightKind.MANAGEMENT
    )
    start_date = serializers.DateField()
    end_date = serializers.DateField()
    revenue_model = serializers.ChoiceField(choices=RevenueModel.choices)
    annual_amount = serializers.CharField(default="0", max_length=20, help_text="元，最多两位小数")
    dividend_rate = serializers.CharField(default="0", max_length=10, help_text="0 至 1，最多四位小数")
    payment_frequency = serializers.ChoiceField(
        choices=PaymentFrequency.choices, default=PaymentFrequency.ANNUAL
    )
    first_payment_date = serializers.DateField()
    obligations = serializers.CharField(default="", allow_blank=True, max_length=5000)
    assets = serializers.ListField(
        child=serializers.CharField(max_length=30), min_length=1, help_text="资源编号"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")  # absent when drf-spectacular builds the schema
        if request is not None:
            self.fields["grantor"].queryset = grantor_choices(request.user)

    def validate_assets(self, codes):
        user = self.context["request"].user
        found = {a.code: a for a in assets_for(user).defer("geometry").filter(code__in=codes)}
        missing = [c for c in codes if c not in found]
        if missing:
            raise serializers.ValidationError(_("找不到资源编号：%(codes)s") % {"codes": "、".join(missing)})
        return [found[c] for c in codes]


@extend_schema_view(
    list=extend_schema(summary="流转收储合同列表"),
    retrieve=extend_schema(summary="流转收储合同详情：资产、收益人与应付计划"),
)
class CollectionContractViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    filterset_class = CollectionContractFilter
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        contracts = collection_contracts_for(self.request.user).order_by("-created_at", "-pk")
        return contracts if self.action == "list" else with_details(contracts)

    def get_serializer_class(self):
        return ContractSerializer if self.action == "list" else ContractDetailSerializer

    def _respond(self, contract, status_code=status.HTTP_200_OK):
        contract = get_object_or_404(
            with_details(collection_contracts_for(self.request.user)), pk=contract.pk
        )
        return Response(ContractDetailSerializer(contract).data, status=status_code)

    @extend_schema(
        summary="新建流转收储合同草稿（支持 Idempotency-Key）",
        request=ContractCreateSerializer,
        responses={
            201: ContractDetailSerializer,
            200: ContractDetailSerializer,
            400: ERROR,
            403: ERROR,
            409: ERROR,
        },
    )
    def create(self, request, *args, **kwargs):
        if not can(request.user, Capability.MANAGE_TRADING):
            raise PermissionDeniedError(_("您没有权限执行此操作。"))
        idempotent = idempotent_request(request, "transactions.collection_contract")
        payload = ContractCreateSerializer(data=request.data, context={"request": request})
        payload.is_valid(raise_exception=True)
        replayed = idempotent.claim() if idempotent else None
        if replayed is not None:
            response = self._respond(CollectionContract(pk=replayed))
            response["Idempotent-Replayed"] = "true"
            return response
        contract = create_once(
            idempotent,
            lambda: services.create_collection_contract(actor=request.user, **payload.validated_data),
        )
        return self._respond(contract, status.HTTP_201_CREATED)

    @extend_schema(
        summary="签订合同：登记合作社权利、资产转为已收储、确定收益人份额和应付计划",
        request=None,
        responses={200: ContractDetailSerializer, 403: ERROR, 404: ERROR, 409: ERROR},
    )
    @action(detail=True, methods=["post"])
    def sign(self, request, pk=None):
        contract = get_object_or_404(collection_contracts_for(request.user), pk=pk)
        return self._respond(services.sign_collection_contract(actor=request.user, contract=contract))


def register(router):
    """Add this area's viewsets to the transactions API router."""
    router.register("collection-contracts", CollectionContractViewSet, basename="collection-contract")
